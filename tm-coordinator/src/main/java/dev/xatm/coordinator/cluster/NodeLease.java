package dev.xatm.coordinator.cluster;

import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.NodeFence;
import dev.xatm.coordinator.log.TxnLogException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * This server's row in {@code <prefix>node}: its lease and its epoch (the fencing token, docs/ha.md),
 * which the JDBC log writes under ({@link NodeFence}).
 *
 * <p>{@link #claim()} takes the node id at start-up: it bumps the epoch, so whatever an earlier
 * incarnation of this node id still has in flight can no longer insert a decision (every insert is
 * fenced on the epoch). If the row's lease is still running it waits for it to expire once: that is
 * this node's own previous process, killed a moment ago. If the lease keeps being renewed, another
 * live server holds the node id, and the start fails with a clear error instead of making two owners.
 *
 * <p>Then the lease is renewed every ttl/4, with the database's clock only. A renewal that finds the
 * epoch moved means another server took this node over: this one is a zombie and must stop
 * ({@link Fenced}). A renewal that fails because the database is unreachable is retried: safety never
 * depends on the lease (the epoch fence in the insert carries it), only liveness does.
 */
final class NodeLease implements NodeFence {
    private static final Logger log = LoggerFactory.getLogger(NodeLease.class);

    /** Called once when this node finds itself fenced; production halts the process. */
    public interface Fenced {
        void fenced(String why);
    }

    private final DataSource dataSource;
    private final JdbcDialect dialect;
    private final String prefix;
    private final int nodeId;
    private final String address;
    private final long ttlMillis;
    private final Fenced onFenced;
    private ScheduledExecutorService renewer;
    private volatile long epoch = -1;
    private volatile long lastRenewedNanos;
    private volatile boolean fenced;

    NodeLease(DataSource dataSource, JdbcDialect dialect, String prefix, int nodeId, String address, long ttlMillis, Fenced onFenced) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.prefix = prefix;
        this.nodeId = nodeId;
        this.address = address;
        this.ttlMillis = ttlMillis;
        this.onFenced = onFenced;
    }

    @Override
    public int nodeId() {
        return nodeId;
    }

    /** The epoch this incarnation holds; valid after {@link #claim()}. */
    @Override
    public long epoch() {
        return epoch;
    }

    /** Nanos (System.nanoTime) of the last successful renewal (or of the claim). */
    long lastRenewedNanos() {
        return lastRenewedNanos;
    }

    long ttlMillis() {
        return ttlMillis;
    }

    /** Takes the node id (new epoch) and starts renewing. */
    @Override
    public void claim() throws SQLException {
        long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * ttlMillis + 1_000);
        while (true) {
            Long left;
            try {
                left = tryClaim();
            } catch (SQLException e) {
                if (e.getSQLState() == null || !e.getSQLState().startsWith("23") || System.nanoTime() > waitUntil) {
                    throw e;
                }
                continue; // two servers inserted the first row for this node id at once; look again
            }
            if (left == null) {
                break;
            }
            if (System.nanoTime() > waitUntil) {
                throw new TxnLogException("tm.server.node-id " + nodeId + " is held by a live tm-server (" + holder()
                        + "): its lease was renewed while this server waited " + (2 * ttlMillis + 1_000) + " ms for it to expire."
                        + " Give every tm-server on one store its own tm.server.node-id.");
            }
            log.info("node {}: the lease of a previous holder runs for another {} ms; waiting for it to expire", nodeId, left);
            sleep(Math.max(50, Math.min(left + 50, ttlMillis / 4)));
        }
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tm-lease-" + nodeId);
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(50, ttlMillis / 4);
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
        log.info("node {}: lease taken, epoch {}, ttl {} ms", nodeId, epoch, ttlMillis);
    }

    /** One attempt: null when the node id is now ours, else the millis its current lease still runs. */
    private Long tryClaim() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Long left = null;
                Long current = null;
                try (PreparedStatement s = c.prepareStatement("SELECT epoch, " + dialect.millisLeft("expires_at")
                        + " FROM " + prefix + "node WHERE node_id = ? FOR UPDATE")) {
                    s.setInt(1, nodeId);
                    try (ResultSet r = s.executeQuery()) {
                        if (r.next()) {
                            current = r.getLong(1);
                            left = r.getLong(2);
                        }
                    }
                }
                if (current != null && left > 0) {
                    c.rollback();
                    return left;
                }
                if (current == null) {
                    try (PreparedStatement s = c.prepareStatement("INSERT INTO " + prefix + "node (node_id, epoch, address, expires_at)"
                            + " VALUES (?, 1, ?, " + dialect.nowPlusMillis() + ")")) {
                        s.setInt(1, nodeId);
                        s.setString(2, address);
                        s.setLong(3, ttlMillis);
                        s.executeUpdate();
                    }
                    epoch = 1;
                } else {
                    try (PreparedStatement s = c.prepareStatement("UPDATE " + prefix + "node SET epoch = epoch + 1, address = ?,"
                            + " taken_by = NULL, expires_at = " + dialect.nowPlusMillis() + " WHERE node_id = ?")) {
                        s.setString(1, address);
                        s.setLong(2, ttlMillis);
                        s.setInt(3, nodeId);
                        s.executeUpdate();
                    }
                    epoch = current + 1;
                }
                c.commit();
                lastRenewedNanos = System.nanoTime();
                return null;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private String holder() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT address, epoch FROM " + prefix + "node WHERE node_id = ?")) {
            s.setInt(1, nodeId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? "address " + r.getString(1) + ", epoch " + r.getLong(2) : "unknown";
            }
        } catch (SQLException e) {
            return "unknown: " + e.getMessage();
        }
    }

    private void renew() {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("UPDATE " + prefix + "node SET expires_at = " + dialect.nowPlusMillis()
                     + " WHERE node_id = ? AND epoch = ?")) {
            s.setLong(1, ttlMillis);
            s.setInt(2, nodeId);
            s.setLong(3, epoch);
            if (s.executeUpdate() == 1) {
                lastRenewedNanos = System.nanoTime();
            } else {
                fenced("the lease row of node " + nodeId + " has moved past epoch " + epoch + ": another tm-server took this node over");
            }
        } catch (SQLException e) {
            long since = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastRenewedNanos);
            log.warn("node {}: lease renewal failed ({} ms since the last one, ttl {} ms): {}", nodeId, since, ttlMillis, e.toString());
        } catch (RuntimeException e) {
            log.error("node {}: lease renewal failed unexpectedly", nodeId, e);
        }
    }

    /** Tests: this process stops renewing, as if frozen (SIGSTOP) or cut off, but keeps its epoch. */
    void stopRenewing() {
        ScheduledExecutorService r = renewer;
        if (r != null) {
            r.shutdownNow();
        }
    }

    /** True once this incarnation found itself taken over; it must not take others over either. */
    boolean isFenced() {
        return fenced;
    }

    @Override
    public void fenced(String why) {
        fenced = true;
        ScheduledExecutorService r = renewer;
        if (r != null) {
            r.shutdown();
        }
        log.error("FENCED: {}; this tm-server stops deciding and exits (a new incarnation recovers from the store)", why);
        onFenced.fenced(why);
    }

    /** Stops renewing and, on a clean shutdown, ends the lease now, so a restart need not wait for it. */
    @Override
    public void close() {
        ScheduledExecutorService r = renewer;
        if (r == null) {
            return;
        }
        r.shutdownNow();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("UPDATE " + prefix + "node SET expires_at = " + dialect.now()
                     + " WHERE node_id = ? AND epoch = ?")) {
            s.setInt(1, nodeId);
            s.setLong(2, epoch);
            s.executeUpdate();
        } catch (SQLException e) {
            log.warn("node {}: could not end the lease on shutdown (it expires by itself within {} ms): {}", nodeId, ttlMillis, e.toString());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TxnLogException("interrupted while waiting for the node lease", e);
        }
    }
}
