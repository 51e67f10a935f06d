package dev.xatm.coordinator.cluster;

import dev.xatm.core.LogRecord;
import dev.xatm.coordinator.log.DecisionRows;
import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.JdbcUrls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Takes over dead nodes of a shared JDBC store (docs/ha.md). Every ttl/2 it looks for
 * other nodes whose lease ran out by the database's clock and that nobody took over yet; for each,
 * one transaction:
 * <ol>
 *   <li>the compare-and-set {@code UPDATE node SET epoch = epoch + 1, taken_by = me WHERE node_id = dead
 *       AND epoch = seen AND taken_by IS NULL AND expires_at < now()} (tm-core's {@code LeaseRules.takeOver},
 *       held to it by {@code TakeoverSqlAgreesWithLeaseRulesTest}): of several survivors racing, exactly one gets the row
 *       (the others find the epoch moved, or wait on its row lock and then find it moved). From its
 *       commit on, the dead incarnation's fenced decision insert inserts nothing (R2/R3), so the open
 *       rows read next are all it will ever have;</li>
 *   <li>a locking read of the dead node's open rows ({@code completed_at IS NULL}), then the UPDATE
 *       that makes them this node's ({@code owner_node, owner_epoch}). The same statements on both
 *       databases: a locking read sees the latest committed rows under MySQL's REPEATABLE READ too.</li>
 * </ol>
 * Both in one transaction, so {@code taken_by} set means the rows moved, and a crash in between moves
 * nothing. The adopted records then go to the coordinator ({@link Takeovers.Adopter}); should this process
 * die before it acts on them, its next incarnation reads them as its own. If this node dies in turn, a
 * takeover of its slot carries them on: they now say {@code owner_node = me}.
 *
 * <p>A node takes over others only while its own lease is fresh (renewed within ttl, by
 * {@code System.nanoTime}): a server cut off from the store should not add work. That is liveness
 * only; every safety rule is in the database statements.
 *
 * <p>Thread-safety: {@link #watchOnce()} runs on the watcher thread (or a test's); the instance keeps
 * no mutable state besides the scheduler.
 */
final class NodeTakeover implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeTakeover.class);

    /**
     * One takeover: this node moved {@code deadNode}'s open rows to itself.
     *
     * @param millisSinceExpiry how long the dead node's lease had run out when the takeover committed (DB clock)
     */
    record Adoption(int deadNode, long seenEpoch, int byNode, long byEpoch, List<LogRecord> records, long millisSinceExpiry) {
        /** Transactions adopted (a row is one transaction, and its first record keeps it open). */
        int transactions() {
            return (int) records.stream().filter(LogRecord::keepsOpen).count();
        }

        /** For the core's history and the log: "node 1 (epoch 3)". */
        String from() {
            return "node " + deadNode + " (epoch " + seenEpoch + ")";
        }
    }

    private record Candidate(int nodeId, long epoch) {}

    private final DataSource dataSource;
    private final JdbcDialect dialect;
    private final String prefix;
    private final NodeLease me;
    private ScheduledExecutorService watcher;

    NodeTakeover(DataSource dataSource, JdbcDialect dialect, String prefix, NodeLease me) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.me = Objects.requireNonNull(me, "me");
    }

    /** Starts watching every ttl/2; each takeover's records go to {@code adopter}, on the watcher thread. */
    synchronized void start(Takeovers.Adopter adopter) {
        Objects.requireNonNull(adopter, "adopter");
        if (watcher != null) {
            throw new IllegalStateException("takeovers are watched already");
        }
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tm-takeover-" + me.nodeId());
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(50, me.ttlMillis() / 2);
        watcher.scheduleWithFixedDelay(() -> watchAndAdopt(adopter), every, every, TimeUnit.MILLISECONDS);
    }

    private void watchAndAdopt(Takeovers.Adopter adopter) {
        try {
            for (Adoption a : watchOnce()) {
                try {
                    adopter.adopt(a.from(), a.records());
                } catch (RuntimeException e) {
                    // The rows are ours in the store: the next incarnation of this node drives them.
                    log.error("node {}: the coordinator did not take the {} transactions adopted from {}; a restart of this"
                            + " node recovers them from the store", me.nodeId(), a.transactions(), a.from(), e);
                }
            }
        } catch (SQLException e) {
            log.warn("node {}: watching the other nodes' leases failed (retried in {} ms): {}", me.nodeId(),
                    Math.max(50, me.ttlMillis() / 2), JdbcUrls.masked(e.toString()));
        } catch (RuntimeException e) {
            log.error("node {}: a takeover failed (retried in {} ms)", me.nodeId(), Math.max(50, me.ttlMillis() / 2), e);
        }
    }

    /** One pass: every expired node nobody took over yet that this node wins. */
    List<Adoption> watchOnce() throws SQLException {
        if (me.epoch() < 1 || me.isFenced() || System.nanoTime() - me.lastRenewedNanos() > TimeUnit.MILLISECONDS.toNanos(me.ttlMillis())) {
            return List.of(); // our own lease is stale: we may be the one cut off
        }
        List<Adoption> adoptions = new ArrayList<>();
        for (Candidate dead : expiredNodes()) {
            tryTakeOver(dead.nodeId(), dead.epoch()).ifPresent(adoptions::add);
        }
        return adoptions;
    }

    /** Tests: the node ids the candidate query lists now (what {@link #watchOnce()} would try). */
    List<Integer> watchOnceCandidates() throws SQLException {
        return expiredNodes().stream().map(Candidate::nodeId).toList();
    }

    private List<Candidate> expiredNodes() throws SQLException {
        List<Candidate> found = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT node_id, epoch FROM " + prefix + "node WHERE node_id <> ?"
                     + " AND taken_by IS NULL AND expires_at < " + dialect.now() + " ORDER BY node_id")) {
            s.setInt(1, me.nodeId());
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    found.add(new Candidate(r.getInt(1), r.getLong(2)));
                }
            }
        }
        return found;
    }

    /** The CAS and the adoption of {@code deadNode}'s open rows, in one transaction; empty when another survivor won. */
    Optional<Adoption> tryTakeOver(int deadNode, long seenEpoch) throws SQLException {
        if (deadNode == me.nodeId()) {
            throw new IllegalArgumentException("node " + deadNode + " cannot take itself over");
        }
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Optional<Adoption> won = takeOver(c, deadNode, seenEpoch);
                if (won.isEmpty()) {
                    c.rollback();
                    return won;
                }
                c.commit();
                Adoption a = won.get();
                log.info("TAKEOVER: node {} (epoch {}) took over node {} (epoch {} -> {}): adopted {} open transactions,"
                                + " {} ms after its lease expired (database clock)",
                        a.byNode(), a.byEpoch(), a.deadNode(), a.seenEpoch(), a.seenEpoch() + 1, a.transactions(), a.millisSinceExpiry());
                return won;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private Optional<Adoption> takeOver(Connection c, int deadNode, long seenEpoch) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE " + prefix + "node SET epoch = epoch + 1, taken_by = ?"
                + " WHERE node_id = ? AND epoch = ? AND taken_by IS NULL AND expires_at < " + dialect.now())) {
            s.setInt(1, me.nodeId());
            s.setInt(2, deadNode);
            s.setLong(3, seenEpoch);
            if (s.executeUpdate() != 1) {
                return Optional.empty(); // another survivor won, or the node renewed or restarted meanwhile
            }
        }
        List<LogRecord> records = new ArrayList<>();
        int rows = 0;
        try (PreparedStatement s = c.prepareStatement("SELECT xid, outcome, payload FROM " + prefix + "decision"
                + " WHERE owner_node = ? AND completed_at IS NULL ORDER BY decided_at, xid FOR UPDATE")) {
            s.setInt(1, deadNode);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    // A row that does not decode fails the whole takeover (rolled back, retried): never lose a decision.
                    records.addAll(DecisionRows.decode(prefix, r.getString(1), r.getInt(2), r.getBytes(3), false));
                    rows++;
                }
            }
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE " + prefix + "decision SET owner_node = ?, owner_epoch = ?"
                + " WHERE owner_node = ? AND completed_at IS NULL")) {
            s.setInt(1, me.nodeId());
            s.setLong(2, me.epoch());
            s.setInt(3, deadNode);
            int moved = s.executeUpdate();
            if (moved != rows) {
                throw new IllegalStateException("takeover of node " + deadNode + ": read " + rows + " open rows but moved " + moved
                        + "; rolled back");
            }
        }
        long sinceExpiry;
        try (PreparedStatement s = c.prepareStatement("SELECT " + dialect.millisLeft("expires_at") + " FROM " + prefix + "node WHERE node_id = ?")) {
            s.setInt(1, deadNode);
            try (ResultSet r = s.executeQuery()) {
                sinceExpiry = r.next() ? -r.getLong(1) : -1;
            }
        }
        return Optional.of(new Adoption(deadNode, seenEpoch, me.nodeId(), me.epoch(), List.copyOf(records), sinceExpiry));
    }

    /** Stops watching; a takeover under way finishes or rolls back with its connection. */
    @Override
    public synchronized void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
