package dev.xatm.client.coordinator;

import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;

import java.util.Optional;

/**
 * Which tm-server a TM call about a gtrid goes to, and which server a new gtrid is minted for
 * (docs/ha.md, coordinator.proto "Gtrid ownership"). A tagged gtrid goes to the server whose Welcome
 * named the owner's node id, and only there: any other server refuses it, because only the owner may
 * decide it. An untagged gtrid goes to the primary server (the first connected one in configuration
 * order), which is the only server of a file store. Implemented by the agent, which holds one stream
 * per server and so knows which are connected. Thread-safe.
 */
public interface ServerRoutes {
    /**
     * The channel to the server that serves {@code gtrid}, or empty while it is not connected: the
     * caller then fails the call at once, as an unreachable server would.
     */
    Optional<CoordinatorChannel> channelFor(String gtrid);

    /** For messages: which server {@code gtrid} goes to, e.g. "tm-server node 2 (tm2:7071)". */
    String describeRoute(String gtrid);

    /**
     * The owner to tag a new gtrid with: a connected server with a node id, taking turns among them;
     * empty when no server has node ids (a file store, embedded mode), so the gtrid stays untagged.
     * Waits at most {@code waitMillis} for a server to be connected when that cannot be told yet.
     *
     * @throws dev.xatm.client.TmSystemException when the servers have node ids and none is connected
     *         within {@code waitMillis}: an untagged gtrid would have no owner there.
     */
    Optional<GtridOwner> ownerForNewGtrid(long waitMillis);

    /**
     * The deployment's cluster id for a new gtrid, as the servers named it in their Welcome; empty when
     * they predate cluster ids (the gtrid then names none, as before). Waits at most {@code waitMillis}
     * for a first Welcome; with 0 it does not wait, and answers empty while no server has been reached.
     *
     * @throws dev.xatm.client.TmSystemException when no server has been reached within {@code waitMillis} (> 0)
     */
    Optional<ClusterId> clusterForNewGtrid(long waitMillis);

    /** Waits at most {@code timeoutMillis} until the server that serves {@code gtrid} is connected. */
    boolean awaitServing(String gtrid, long timeoutMillis) throws InterruptedException;

    /** One channel for everything, untagged gtrids only: tests, and clients without an agent. */
    static ServerRoutes single(CoordinatorChannel channel) {
        return new ServerRoutes() {
            @Override
            public Optional<CoordinatorChannel> channelFor(String gtrid) {
                return Optional.of(channel);
            }

            @Override
            public String describeRoute(String gtrid) {
                return channel.description();
            }

            @Override
            public Optional<GtridOwner> ownerForNewGtrid(long waitMillis) {
                return Optional.empty();
            }

            @Override
            public Optional<ClusterId> clusterForNewGtrid(long waitMillis) {
                return Optional.empty();
            }

            @Override
            public boolean awaitServing(String gtrid, long timeoutMillis) {
                return true;
            }
        };
    }
}
