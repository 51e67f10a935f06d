package dev.xatm.coordinator.transport;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The WARN lines of refused calls (a missing or wrong token), at most one per client per minute, so a
 * misconfigured or hostile client cannot flood the log: the first refusal of a client is written at
 * once; the ones that follow within the minute are only counted, and the next line written for that
 * client (at its first refusal after the minute) says how many there were. A client that stops being
 * refused leaves its last count unwritten; the count is a hint for the operator, not an audit.
 *
 * <p>A client is its address without the port (every new connection has a new port). At most
 * {@value #MAX_CLIENTS} clients are tracked: past that, clients whose minute is over are dropped, and
 * if every one is still within its minute the table starts afresh (an attacker with that many addresses
 * gets one line per address, no more). Thread-safe; the clock is injected for the tests.
 */
public final class RefusalLog {
    static final long WINDOW_MILLIS = 60_000;
    static final int MAX_CLIENTS = 10_000;

    private final Clock clock;
    private final Consumer<String> warn;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /** @param warn writes one WARN line (production: a logger's warn) */
    public RefusalLog(Clock clock, Consumer<String> warn) {
        this.clock = clock;
        this.warn = warn;
    }

    /** The count of refusals since a client's last written line, and when that line was written. */
    private record Window(long startMillis, long suppressed) {
    }

    /**
     * Notes one refusal of {@code client}; writes {@code what} (plus the count of the refusals not
     * written since the last line) when this client's last line is a minute old or there was none.
     *
     * @param what the line without the count, e.g. "Refused Commit from 10.0.0.7: invalid bearer token";
     *             it must never hold a token
     */
    public void refused(String client, String what) {
        long now = clock.millis();
        if (windows.size() >= MAX_CLIENTS && !windows.containsKey(client)) {
            windows.values().removeIf(w -> now - w.startMillis() >= WINDOW_MILLIS);
            if (windows.size() >= MAX_CLIENTS) {
                windows.clear();
            }
        }
        long[] written = {-1};
        windows.compute(client, (key, w) -> {
            if (w == null || now - w.startMillis() >= WINDOW_MILLIS) {
                written[0] = w == null ? 0 : w.suppressed();
                return new Window(now, 0);
            }
            return new Window(w.startMillis(), w.suppressed() + 1);
        });
        if (written[0] == 0) {
            warn.accept(what + " (further refusals of this client are counted, one line per minute)");
        } else if (written[0] > 0) {
            warn.accept(what + " (and " + written[0] + " more refusals of this client in the last minute, not logged one by one)");
        }
    }

    /** Clients tracked now (for the tests of the bound). */
    int trackedClients() {
        return windows.size();
    }

    /** The client part of a peer address: "10.0.0.7" for "/10.0.0.7:53312"; the whole text otherwise. */
    public static String clientOf(java.net.SocketAddress peer) {
        if (peer instanceof java.net.InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return String.valueOf(peer);
    }
}
