package dev.xatm.coordinator.engine;

import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;

import java.util.concurrent.atomic.LongAdder;

/**
 * How many transactions this coordinator decided, by outcome and protocol: one count per decision,
 * not per answer (a client that asks again hears the same decision). Written by the coordinator's
 * loop, read by metrics scrapes on any thread; one array slot per pair, so counting allocates nothing.
 * A {@link Listener} (tm-server's decision observations) hears each decision on the loop's thread.
 */
public final class DecisionCounts {
    /** Hears each decision on the coordinator's thread: must be quick and must not throw. */
    @FunctionalInterface
    public interface Listener {
        void decided(String gtrid, Outcome outcome, Protocol protocol);
    }

    private volatile Listener listener = (gtrid, outcome, protocol) -> {};
    private final LongAdder[] counts = new LongAdder[Outcome.values().length * Protocol.values().length];

    DecisionCounts() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** A null protocol (a transaction the core no longer holds) counts as two-phase, the default. */
    void record(String gtrid, Outcome outcome, Protocol protocol) {
        Protocol p = protocol == null ? Protocol.TWO_PHASE : protocol;
        counts[index(outcome, p)].increment();
        listener.decided(gtrid, outcome, p);
    }

    /** Replaces the listener (one at a time: tm-server has one). */
    public void listen(Listener listener) {
        this.listener = listener;
    }

    public long count(Outcome outcome, Protocol protocol) {
        return counts[index(outcome, protocol)].sum();
    }

    private static int index(Outcome outcome, Protocol protocol) {
        return outcome.ordinal() * Protocol.values().length + protocol.ordinal();
    }
}
