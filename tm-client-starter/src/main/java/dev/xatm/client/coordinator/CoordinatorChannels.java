package dev.xatm.client.coordinator;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * The channels of an application instance: one per configured tm-server address (remote mode), or
 * the single in-process one (embedded mode); plus those opened later for servers the cluster
 * announces ({@code Members}), with the same token and keep-alive. Closes every channel it holds.
 * Thread-safe.
 */
public final class CoordinatorChannels implements AutoCloseable {
    private final List<CoordinatorChannel> configured;
    /** Opens a channel to a "host:port"; null when this set is fixed (embedded mode). */
    private final Function<String, CoordinatorChannel> opener;
    private final List<CoordinatorChannel> opened = new CopyOnWriteArrayList<>();

    public CoordinatorChannels(List<CoordinatorChannel> configured, Function<String, CoordinatorChannel> opener) {
        if (configured.isEmpty()) {
            throw new IllegalArgumentException("at least one coordinator channel is needed");
        }
        this.configured = List.copyOf(configured);
        this.opener = opener;
    }

    /**
     * One channel per address of {@code tm.client.server-address}, and the same settings (token,
     * keep-alive, TLS) for announced ones.
     *
     * @param tls null for plaintext, else the TLS of every channel
     */
    public static CoordinatorChannels remote(List<InetSocketAddress> addresses, String authToken, long keepaliveMillis, ChannelTls tls) {
        List<CoordinatorChannel> channels = new java.util.ArrayList<>();
        for (InetSocketAddress a : addresses) {
            channels.add(new CoordinatorChannel(List.of(a), authToken, keepaliveMillis, tls));
        }
        return new CoordinatorChannels(channels, address -> new CoordinatorChannel(ServerAddresses.parse(address).subList(0, 1),
                authToken, keepaliveMillis, tls));
    }

    /** Exactly these channels; announced servers get none. */
    public static CoordinatorChannels fixed(CoordinatorChannel... channels) {
        return new CoordinatorChannels(List.of(channels), null);
    }

    /** In configuration order: the first connected one is the primary server. */
    public List<CoordinatorChannel> configured() {
        return configured;
    }

    public boolean canOpen() {
        return opener != null;
    }

    /** A new channel to {@code address} ("host:port"), closed with this set. */
    public CoordinatorChannel open(String address) {
        if (opener == null) {
            throw new IllegalStateException("this set of coordinator channels is fixed");
        }
        CoordinatorChannel c = opener.apply(address);
        opened.add(c);
        return c;
    }

    @Override
    public void close() {
        for (CoordinatorChannel c : opened) {
            c.close();
        }
        for (CoordinatorChannel c : configured) {
            c.close();
        }
    }
}
