package dev.xatm.coordinator.cluster;

import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import dev.xatm.coordinator.log.NodeFence;

import java.sql.SQLException;

/**
 * This server as one node of a shared JDBC store: its lease ({@link NodeLease}), its takeovers of dead
 * nodes ({@link NodeTakeover}) and its view of the others ({@link JdbcCluster}), built on the store's
 * pool by the store's configuration ({@link #open}), never by the log.
 *
 * <p>To the log it is the {@link NodeFence}: the log claims it when it opens (the lease takes the node
 * id with a new epoch, then the membership reads start) and closes it after its last write (the
 * membership and the takeovers stop, then the lease is released), so a survivor never takes this node
 * over while its last decisions are being written.
 *
 * <p>Thread-safety: as its three parts; {@link #claim()} and {@link #close()} come from the log's
 * lifecycle, {@link #start} once from the coordinator after the log opened.
 */
public final class JdbcClusterNode implements NodeFence, Takeovers {
    private final NodeLease lease;
    private final NodeTakeover takeover;
    private final JdbcCluster cluster;

    /** The log and the cluster node of one shared store, wired to each other. */
    public record SharedStore(JdbcTxnLog log, JdbcClusterNode node) {}

    JdbcClusterNode(JdbcStore store, NodeLease.Fenced onFenced) {
        JdbcStore.Config config = store.config();
        this.lease = new NodeLease(store.dataSource(), store.dialect(), config.tablePrefix(), config.nodeId(), config.address(),
                config.leaseTtlMillis(), onFenced);
        this.takeover = new NodeTakeover(store.dataSource(), store.dialect(), config.tablePrefix(), lease);
        this.cluster = new JdbcCluster(store.dataSource(), store.dialect(), config.tablePrefix(), lease,
                Math.max(1, config.leaseTtlMillis() / 2));
    }

    /**
     * Connects to the store (see {@link JdbcStore#connect}) and builds its log, fenced by this server's
     * lease, and the cluster node beside it. The log is not open yet.
     *
     * @param onFenced what to do when another server took this node over; production halts
     */
    public static SharedStore open(JdbcStore.Config config, JdbcTxnLog.Settings settings, NodeLease.Fenced onFenced) {
        return open(JdbcStore.connect(config), settings, onFenced);
    }

    /** As {@link #open(JdbcStore.Config, JdbcTxnLog.Settings, NodeLease.Fenced)}, on a store already connected. */
    public static SharedStore open(JdbcStore store, JdbcTxnLog.Settings settings, NodeLease.Fenced onFenced) {
        try {
            JdbcClusterNode node = new JdbcClusterNode(store, onFenced);
            return new SharedStore(store.log(node, settings), node);
        } catch (RuntimeException e) {
            store.closeUnlessHandedOver();
            throw e;
        }
    }

    /** The servers sharing the store, and rule R4 for the gtrids this one does not own; valid once the log is open. */
    public Cluster cluster() {
        return cluster;
    }

    @Override
    public int nodeId() {
        return lease.nodeId();
    }

    @Override
    public long epoch() {
        return lease.epoch();
    }

    @Override
    public void claim() throws SQLException {
        lease.claim();
        cluster.start();
    }

    @Override
    public void fenced(String why) {
        lease.fenced(why);
    }

    /** Watches the other nodes' leases every ttl/2 and takes over dead ones ({@link NodeTakeover}). */
    @Override
    public void start(Adopter adopter) {
        if (lease.epoch() < 1) {
            throw new IllegalStateException("takeovers start after the log opened and claimed node " + lease.nodeId());
        }
        takeover.start(adopter);
    }

    @Override
    public void close() {
        cluster.close();
        takeover.close();
        lease.close();
    }

    NodeLease leaseForTest() {
        return lease;
    }

    NodeTakeover takeoverForTest() {
        return takeover;
    }
}
