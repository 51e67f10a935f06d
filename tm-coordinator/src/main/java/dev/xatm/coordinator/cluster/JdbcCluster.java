package dev.xatm.coordinator.cluster;

import dev.xatm.protocol.GtridOwner;
import dev.xatm.coordinator.log.DecisionRows;
import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.JdbcUrls;
import dev.xatm.coordinator.log.TxnLogException;
import dev.xatm.core.cluster.DecisionRow;
import dev.xatm.core.cluster.NodeRow;
import dev.xatm.core.cluster.StoreRules;
import dev.xatm.core.cluster.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@link Cluster} on the shared JDBC store: the live members from {@code <prefix>node}, re-read every
 * ttl/2, and rule R4 from the node and decision tables. This class only reads the rows; what they
 * mean is tm-core's pure {@link StoreRules#verdict}.
 *
 * <p>The order of the two reads in {@link #verdicts} is what makes "no row and fenced means ROLLBACK"
 * sound: the owner epochs are read first, the decision rows after, each statement in its own
 * autocommit transaction. An owner's insert holds a share lock on its node row until it commits, and a
 * takeover's epoch bump waits for that lock; so when the first read already sees the bumped epoch,
 * every decision that incarnation will ever have is committed, and the second read sees it. Read the
 * other way round, a COMMIT inserted between the two reads would be answered ROLLBACK.
 *
 * <p>Reads run on one daemon thread of their own, never on a gRPC thread; verdicts are asked for
 * rarely (after a failover, or by an agent's XA RECOVER), and each call is one pair of statements.
 */
final class JdbcCluster implements Cluster, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JdbcCluster.class);
    /** Bounds the IN lists and the work a single Resume can ask for. */
    static final int MAX_GTRIDS = 1_000;
    private static final int QUEUE_MAX = 1_000;

    private final DataSource dataSource;
    private final JdbcDialect dialect;
    private final String prefix;
    private final NodeLease lease;
    private final long refreshMillis;
    private final ScheduledExecutorService reader;
    private volatile List<Member> members = List.of();

    JdbcCluster(DataSource dataSource, JdbcDialect dialect, String prefix, NodeLease lease, long refreshMillis) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.prefix = prefix;
        this.lease = lease;
        this.refreshMillis = refreshMillis;
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tm-cluster");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        s.setRemoveOnCancelPolicy(true);
        this.reader = s;
    }

    /** After the lease is claimed: reads the members once now and then every refresh interval. */
    void start() {
        refresh();
        reader.scheduleWithFixedDelay(this::refresh, refreshMillis, refreshMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public Optional<GtridOwner> self() {
        long epoch = lease.epoch();
        return epoch < 1 ? Optional.empty() : Optional.of(new GtridOwner(lease.nodeId(), epoch));
    }

    @Override
    public List<Member> members() {
        return members;
    }

    @Override
    public CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids) {
        List<String> asked = List.copyOf(new LinkedHashSet<>(gtrids));
        if (asked.size() > MAX_GTRIDS) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "at most " + MAX_GTRIDS + " gtrids per question, got " + asked.size()));
        }
        if (asked.isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        if (((ThreadPoolExecutor) reader).getQueue().size() >= QUEUE_MAX) {
            return CompletableFuture.failedFuture(new IllegalStateException("too many questions about other servers' transactions queued"));
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return read(asked);
                } catch (SQLException e) {
                    throw new CompletionException(new TxnLogException("cannot read the shared store: " + JdbcUrls.masked(e.getMessage()), e));
                }
            }, reader);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("the store is closed"));
        }
    }

    /** Package-visible for tests: R4, read now on the calling thread. */
    Map<String, Verdict> read(List<String> gtrids) throws SQLException {
        Optional<GtridOwner> self = self();
        Set<Integer> nodes = new LinkedHashSet<>();
        gtrids.forEach(g -> GtridOwner.of(g).filter(o -> !Optional.of(o).equals(self)).ifPresent(o -> nodes.add(o.nodeId())));
        List<String> rest = gtrids.stream().filter(g -> GtridOwner.of(g).isEmpty() || !GtridOwner.of(g).equals(self)).toList();
        Map<Integer, Long> epochs = new HashMap<>();
        Map<String, Integer> rows = new HashMap<>();
        if (!rest.isEmpty()) { // the owner's own gtrids are its core's to answer: no read for them
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                if (!nodes.isEmpty()) {
                    epochs.putAll(epochs(c, nodes)); // first: see the class comment
                }
                rows.putAll(decisions(c, rest));
            }
        }
        Map<String, Verdict> out = new HashMap<>();
        for (String g : gtrids) {
            Optional<GtridOwner> owner = GtridOwner.of(g);
            Long epoch = owner.map(o -> epochs.get(o.nodeId())).orElse(null);
            // R4 reads only the owner's epoch; the lease expiry plays no part in it.
            NodeRow ownerRow = epoch == null ? null : new NodeRow(owner.get().nodeId(), epoch, 0, 0);
            Integer outcome = rows.get(g);
            DecisionRow row = outcome == null ? null : new DecisionRow(g, outcome(outcome), null);
            out.put(g, StoreRules.verdict(Ownership.incarnation(self), Ownership.incarnation(owner), ownerRow, row));
        }
        return out;
    }

    private static DecisionRow.Outcome outcome(int code) {
        return switch (code) {
            case DecisionRows.OUTCOME_COMMIT -> DecisionRow.Outcome.COMMIT;
            case DecisionRows.OUTCOME_PRE_COMMIT -> DecisionRow.Outcome.PRE_COMMIT;
            default -> DecisionRow.Outcome.ROLLED_BACK; // ABORT, or rolled back with heuristic branches
        };
    }

    private Map<Integer, Long> epochs(Connection c, Set<Integer> nodes) throws SQLException {
        Map<Integer, Long> epochs = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT node_id, epoch FROM " + prefix + "node WHERE node_id IN ("
                + placeholders(nodes.size()) + ")")) {
            int i = 1;
            for (int n : nodes) {
                s.setInt(i++, n);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    epochs.put(r.getInt(1), r.getLong(2));
                }
            }
        }
        return epochs;
    }

    private Map<String, Integer> decisions(Connection c, List<String> gtrids) throws SQLException {
        Map<String, Integer> rows = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT xid, outcome FROM " + prefix + "decision WHERE xid IN ("
                + placeholders(gtrids.size()) + ")")) {
            for (int i = 0; i < gtrids.size(); i++) {
                s.setString(i + 1, gtrids.get(i));
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.put(r.getString(1), r.getInt(2));
                }
            }
        }
        return rows;
    }

    private void refresh() {
        List<Member> live = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT node_id, epoch, address FROM " + prefix + "node WHERE taken_by IS NULL"
                     + " AND expires_at > " + dialect.now() + " ORDER BY node_id")) {
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    live.add(new Member(r.getInt(1), r.getLong(2), r.getString(3)));
                }
            }
            members = Collections.unmodifiableList(live);
        } catch (SQLException e) {
            log.debug("reading the members from the store failed (kept the last list): {}", JdbcUrls.masked(e.getMessage()));
        } catch (RuntimeException e) {
            log.warn("reading the members from the store failed (kept the last list)", e);
        }
    }

    private static String placeholders(int n) {
        return String.join(", ", Collections.nCopies(n, "?"));
    }

    @Override
    public void close() {
        reader.shutdownNow();
    }
}
