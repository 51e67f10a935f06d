package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The JDBC log's {@link GroupCommitWriter.BatchWriter}: a batch becomes rows of {@code <prefix>decision}.
 * The records that must be durable (COMMIT decisions, 3PC PRE_COMMIT records, Heuristics) go into one
 * multi-row upsert per {@link JdbcTxnLog.Settings#batchRowsMax()} rows, fenced on this node's epoch
 * ({@link NodeFence}); a 3PC Aborted is one fenced, durable {@code UPDATE ... WHERE xid IN (...)} per
 * batch; the lazy Completed records are one unfenced UPDATE per batch (a zombie's completion is still
 * true), on PostgreSQL without waiting for the WAL flush.
 *
 * <p><b>Retries.</b> A batch that fails on the database is retried with backoff until it succeeds
 * (every statement is idempotent), so nothing in it is acknowledged meanwhile. A fenced batch is never
 * retried: a zombie's decision must never become durable; the writer fails the log and tells the
 * fence. After a close, a batch still failing gives up after three attempts.
 *
 * <p>Threads: the writer thread alone calls it; the counters may be read from any thread.
 */
final class DecisionRowWriter implements GroupCommitWriter.BatchWriter {
    private static final Logger log = LoggerFactory.getLogger(JdbcTxnLog.class);
    private static final int OUTCOME_COMMIT = DecisionRows.OUTCOME_COMMIT;
    private static final int OUTCOME_ABORT = DecisionRows.OUTCOME_ABORT;
    private static final int OUTCOME_PRE_COMMIT = DecisionRows.OUTCOME_PRE_COMMIT;
    private static final int OUTCOME_HEURISTICS = DecisionRows.OUTCOME_HEURISTICS;
    /** Lazy UPDATEs name their rows in an IN list; bounded so a backlog never builds a huge statement. */
    private static final int IN_LIST_MAX = 500;
    private static final int PURGE_ROWS_MAX = 1_000;
    private static final long PURGE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private record Row(String xid, int outcome, byte[] payload) {}

    /** This node was taken over: nothing may be written any more. */
    private static final class FencedException extends Exception {
        FencedException(String message) {
            super(message);
        }
    }

    private final DataSource dataSource;
    private final JdbcDialect dialect;
    private final String prefix;
    private final NodeFence fence;
    private final JdbcTxnLog.Settings settings;
    /** Set by {@link #closing()}: a batch the store keeps refusing is then given up after a few attempts. */
    private volatile boolean closing;

    private final AtomicLong decisionStatements = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private long lastPurgeNanos = System.nanoTime();

    DecisionRowWriter(DataSource dataSource, JdbcDialect dialect, String prefix, NodeFence fence, JdbcTxnLog.Settings settings) {
        this.dataSource = dataSource;
        this.dialect = dialect;
        this.prefix = prefix;
        this.fence = fence;
        this.settings = settings;
    }

    long decisionStatements() {
        return decisionStatements.get();
    }

    long retries() {
        return retries.get();
    }

    @Override
    public void write(List<GroupCommitWriter.Append> batch) throws SQLException, FencedException, InterruptedException {
        long backoff = 50;
        for (int attempt = 1; ; attempt++) {
            try {
                writeOnce(batch);
                if (attempt > 1) {
                    log.info("JDBC transaction log: the store answers again; {} appends written after {} attempts", batch.size(), attempt);
                }
                return;
            } catch (SQLException | RuntimeException e) {
                retries.incrementAndGet();
                if (closing && attempt >= 3) {
                    throw e;
                }
                // Nothing in the batch is acknowledged until it is written; the upsert is idempotent.
                log.warn("JDBC transaction log: writing {} appends failed (attempt {}), retrying in {} ms: {}",
                        batch.size(), attempt, backoff, e.toString());
                Thread.sleep(backoff);
                backoff = Math.min(settings.retryMaxMillis(), backoff * 2);
            }
        }
    }

    /** Rate-limited: under steady load the writer is never idle, so this runs after batches too. */
    @Override
    public void afterBatch() {
        maybePurge();
    }

    @Override
    public void closing() {
        closing = true;
    }

    @Override
    public TxnLogException failure(Throwable cause) {
        if (cause instanceof FencedException fenced) {
            fence.fenced(fenced.getMessage());
            return new TxnLogException("fenced: " + fenced.getMessage());
        }
        if (cause instanceof InterruptedException) {
            return new TxnLogException("the JDBC log's writer was interrupted (closed while the store was failing)", cause);
        }
        if (cause instanceof SQLException || cause instanceof RuntimeException) {
            return new TxnLogException("closed while the store was failing: " + JdbcUrls.masked(cause.getMessage()), cause);
        }
        return new TxnLogException("the JDBC log's writer failed: " + cause, cause);
    }

    /**
     * One batch: the durable rows first (one upsert per {@link Settings#batchRowsMax()} rows), then the
     * lazy updates. That order is safe: a lazy record only ever concerns a row appended earlier, in this
     * batch or an earlier one (Completed follows DecisionDurable; Aborted follows the PRE_COMMIT append).
     */
    private void writeOnce(List<GroupCommitWriter.Append> batch) throws SQLException, FencedException {
        Map<String, Row> durable = new LinkedHashMap<>();
        List<String> aborted = new ArrayList<>();
        List<String> completed = new ArrayList<>();
        for (GroupCommitWriter.Append p : batch) {
            for (int i = 0; i < p.records().size(); i++) {
                LogRecord r = p.records().get(i);
                if (r instanceof LogRecord.Decision) {
                    durable.put(r.gtrid(), new Row(r.gtrid(), OUTCOME_COMMIT, p.payloads().get(i)));
                } else if (r instanceof LogRecord.PreCommit) {
                    // A Decision may follow it; never the other way round, so the later one wins.
                    durable.putIfAbsent(r.gtrid(), new Row(r.gtrid(), OUTCOME_PRE_COMMIT, p.payloads().get(i)));
                } else if (r instanceof LogRecord.Heuristics) {
                    durable.put(r.gtrid(), new Row(r.gtrid(), OUTCOME_HEURISTICS, p.payloads().get(i)));
                } else if (r instanceof LogRecord.Aborted) {
                    aborted.add(r.gtrid());
                } else if (r instanceof LogRecord.Completed) {
                    completed.add(r.gtrid());
                }
            }
        }
        try (Connection c = dataSource.getConnection()) {
            List<Row> rows = new ArrayList<>(durable.values());
            for (int from = 0; from < rows.size(); from += settings.batchRowsMax()) {
                upsert(c, rows.subList(from, Math.min(rows.size(), from + settings.batchRowsMax())));
            }
            if (!aborted.isEmpty()) {
                abortPreCommits(c, aborted);
            }
            if (!completed.isEmpty()) {
                lazyUpdates(c, completed);
            }
        }
    }

    private void upsert(Connection c, List<Row> rows) throws SQLException, FencedException {
        int node = fence.nodeId();
        long epoch = fence.epoch();
        String sql = dialect.upsertDecisions(prefix, rows.size());
        decisionStatements.incrementAndGet();
        if (dialect.fenceInStatement()) {
            c.setAutoCommit(true);
            Set<String> written = new HashSet<>();
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int i = 1;
                s.setInt(i++, node);
                s.setLong(i++, epoch);
                s.setInt(i++, node);
                s.setLong(i++, epoch);
                for (Row r : rows) {
                    s.setString(i++, r.xid());
                    s.setInt(i++, r.outcome());
                    s.setBytes(i++, r.payload());
                }
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        written.add(rs.getString(1));
                    }
                }
            }
            if (written.size() < rows.size() && currentEpoch(c) != epoch) {
                throw new FencedException("node " + node + " is no longer at epoch " + epoch + ": another tm-server took it over,"
                        + " and this server's decisions were refused");
            }
            // Rows neither inserted nor updated were there already with this or a later outcome: a
            // repeated append (after a retry whose commit we did not see), which changes nothing.
            return;
        }
        inTransaction(c, () -> {
            lockOwnEpoch(c, node, epoch, "decisions were refused");
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int i = 1;
                for (Row r : rows) {
                    s.setString(i++, r.xid());
                    s.setInt(i++, r.outcome());
                    s.setInt(i++, node);
                    s.setLong(i++, epoch);
                    s.setBytes(i++, r.payload());
                }
                s.executeUpdate();
            }
        });
    }

    /**
     * PRE_COMMIT -> ABORT is the owner's alone (docs/ha.md, rule R5): after a takeover the adopter may be asking
     * the branches again and commit, so a zombie must not turn the row to ABORT and tell its client
     * ROLLED_BACK. Fenced like the upsert: a share lock on this node's lease row, in the same
     * transaction, orders it against a takeover's compare-and-set, and the UPDATE touches only rows
     * this node owns. Only a PRE_COMMIT becomes ABORT: an Aborted never follows a COMMIT decision.
     * Durable (the normal commit flush): the client hears ROLLED_BACK only after it.
     */
    private void abortPreCommits(Connection c, List<String> aborted) throws SQLException, FencedException {
        int node = fence.nodeId();
        long epoch = fence.epoch();
        inTransaction(c, () -> {
            lockOwnEpoch(c, node, epoch, "rollback of a PRE_COMMIT record was refused");
            updateIn(c, "UPDATE " + prefix + "decision SET outcome = " + OUTCOME_ABORT + " WHERE outcome = " + OUTCOME_PRE_COMMIT
                    + " AND owner_node = " + node + " AND xid IN ", aborted);
        });
    }

    /**
     * The fence where the statement cannot carry it: a share lock on this node's row, held until the
     * transaction ends, so a takeover's epoch bump waits for this write, or this write finds the epoch
     * moved and writes nothing.
     */
    private void lockOwnEpoch(Connection c, int node, long epoch, String refused) throws SQLException, FencedException {
        try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + prefix + "node WHERE node_id = ? " + dialect.shareLock())) {
            s.setInt(1, node);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next() || rs.getLong(1) != epoch) {
                    throw new FencedException("node " + node + " is no longer at epoch " + epoch + ": another tm-server took it over,"
                            + " and this server's " + refused);
                }
            }
        }
    }

    private long currentEpoch(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + prefix + "node WHERE node_id = ?")) {
            s.setInt(1, fence.nodeId());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    private void lazyUpdates(Connection c, List<String> completed) throws SQLException, FencedException {
        String preamble = dialect.lazyWritesPreamble();
        inTransaction(c, () -> {
            if (preamble != null) {
                try (Statement s = c.createStatement()) {
                    s.execute(preamble);
                }
            }
            updateIn(c, "UPDATE " + prefix + "decision SET completed_at = " + dialect.now() + " WHERE completed_at IS NULL AND xid IN ",
                    completed);
        });
    }

    /** Work of one database transaction on {@code c}. */
    @FunctionalInterface
    private interface TransactionWork {
        void run() throws SQLException, FencedException;
    }

    /** Runs {@code work} in one transaction: committed if it returns, rolled back if it throws. */
    private static void inTransaction(Connection c, TransactionWork work) throws SQLException, FencedException {
        c.setAutoCommit(false);
        try {
            work.run();
            c.commit();
        } catch (SQLException | RuntimeException | FencedException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void updateIn(Connection c, String sqlUpToIn, List<String> xids) throws SQLException {
        for (int from = 0; from < xids.size(); from += IN_LIST_MAX) {
            List<String> chunk = xids.subList(from, Math.min(xids.size(), from + IN_LIST_MAX));
            try (PreparedStatement s = c.prepareStatement(sqlUpToIn + "(" + String.join(", ", Collections.nCopies(chunk.size(), "?")) + ")")) {
                for (int i = 0; i < chunk.size(); i++) {
                    s.setString(i + 1, chunk.get(i));
                }
                s.executeUpdate();
            }
        }
    }

    /** Deletes completed rows older than the purge age, a bounded number at a time, when the writer is idle. */
    private void maybePurge() {
        if (System.nanoTime() - lastPurgeNanos < PURGE_INTERVAL_NANOS) {
            return;
        }
        lastPurgeNanos = System.nanoTime();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(dialect.purgeCompleted(prefix))) {
            s.setLong(1, settings.purgeAfterMillis());
            s.setInt(2, PURGE_ROWS_MAX);
            int purged = s.executeUpdate();
            if (purged > 0) {
                log.debug("JDBC transaction log: purged {} completed rows", purged);
            }
        } catch (SQLException e) {
            log.warn("JDBC transaction log: purging completed rows failed (retried later): {}", e.toString());
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            log.debug("rollback after a failed write: {}", e.toString());
        }
    }
}
