package dev.xatm.coordinator.log;

import java.sql.SQLException;

/**
 * The fencing token of a store shared by several servers: the node id this server writes as, and the
 * epoch its incarnation claimed. The JDBC log claims it when it opens, writes a decision only while
 * the store's node row still carries that epoch, reports itself fenced when it does not, and releases
 * the fence after its last write. Who else holds the store, the lease that keeps the node id and the
 * takeover of dead nodes are the cluster package's ({@code dev.xatm.coordinator.cluster.NodeLease}
 * implements this); the log knows only the token.
 *
 * <p>Implementations are thread-safe: the log's writer thread reads the token while the lease renews it.
 */
public interface NodeFence extends AutoCloseable {

    int nodeId();

    /** The epoch this incarnation holds; valid after {@link #claim()}. */
    long epoch();

    /**
     * Takes the node id with a new epoch, so whatever an earlier incarnation still has in flight can no
     * longer write. Called once, by the log's {@code open()}, before it reads the node's rows.
     *
     * @throws dev.xatm.coordinator.log.TxnLogException the node id is held by a live server
     */
    void claim() throws SQLException;

    /** The log found the epoch moved: another server took this node over. Called once; production halts. */
    void fenced(String why);

    /** Releases the node id; called by the log after its last write. */
    @Override
    void close();
}
