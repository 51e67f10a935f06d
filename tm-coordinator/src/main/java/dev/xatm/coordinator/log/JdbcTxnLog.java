package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The transaction log in a PostgreSQL or MySQL/MariaDB database ({@code tm.server.store=jdbc}), for
 * deployments that already run one and want no local disk state, and for several tm-servers on one
 * store (docs/ha.md). Same contract as {@link FileTxnLog} (see {@link TxnLog}); the table layout is in
 * {@code sql/tm-server/}.
 *
 * <p><b>Group commit.</b> One writer thread takes every pending append at once. The records that must
 * be durable (COMMIT decisions, 3PC PRE_COMMIT records) go into <em>one</em> multi-row, fenced upsert
 * per batch (up to {@link Settings#batchRowsMax()} rows; the database's own commit is the fsync), and
 * their futures complete when it has committed; a 3PC Aborted is one durable {@code UPDATE ... WHERE
 * xid IN (...)} per batch. The lazy Completed records are one such UPDATE per batch too, on PostgreSQL
 * without waiting for the WAL flush. A lost lazy write costs an idempotent resend after a restart, as with the file log.
 *
 * <p><b>Fencing.</b> Every upsert inserts only while this node's lease row still carries the epoch
 * this incarnation claimed ({@link NodeLease}); if another server took the node over, the upsert
 * inserts nothing and this log reports the node {@link NodeLease.Fenced fenced}: it never retries,
 * since a zombie's decision must never become durable. A 3PC Aborted (PRE_COMMIT -> ABORT, the
 * owner's alone) is fenced the same way; the lazy completions are not (a zombie's is still true).
 * Takeovers of other, dead nodes are {@link NodeTakeover}'s ({@link #startTakeovers}).
 *
 * <p><b>The database down.</b> A failed batch is retried with backoff until it succeeds (the upsert is
 * idempotent); meanwhile nothing in it is acknowledged, so no new decision is, and phase 2 of the
 * transactions already decided goes on in memory. Once the oldest append has waited
 * {@code tm.server.log.stall-timeout}, the coordinator refuses new work with UNAVAILABLE and shows the
 * store DOWN ({@link #stallPolicy()}). Appends queue up to {@link Settings#pendingAppendsMax()} and
 * then wait, at most the stall timeout.
 *
 * <p>Rows are purged a while after they are completed ({@link Settings#purgeAfterMillis()}).
 */
public final class JdbcTxnLog implements TxnLog {
    private static final Logger log = LoggerFactory.getLogger(JdbcTxnLog.class);
    private static final int OUTCOME_COMMIT = DecisionRows.OUTCOME_COMMIT;
    private static final int OUTCOME_ABORT = DecisionRows.OUTCOME_ABORT;
    private static final int OUTCOME_PRE_COMMIT = DecisionRows.OUTCOME_PRE_COMMIT;
    private static final int OUTCOME_HEURISTICS = DecisionRows.OUTCOME_HEURISTICS;
    /** Lazy UPDATEs name their rows in an IN list; bounded so a backlog never builds a huge statement. */
    private static final int IN_LIST_MAX = 500;
    private static final int PURGE_ROWS_MAX = 1_000;

    /**
     * @param batchRowsMax      decision rows in one upsert statement
     * @param pendingAppendsMax appends queued before {@link #append} waits for room
     * @param purgeAfterMillis  completed rows are deleted this long after completion
     * @param retryMaxMillis    a failed batch is retried with backoff doubling from 50 ms up to this
     * @param stallTimeout      how long {@link #append} waits for room in a full queue before it fails
     *                          ({@code tm.server.log.stall-timeout}); the coordinator then halts
     */
    public record Settings(int batchRowsMax, int pendingAppendsMax, long purgeAfterMillis, long retryMaxMillis, Duration stallTimeout) {
        public static Settings defaults() {
            return new Settings(256, 100_000, 60_000, 2_000);
        }

        /** Appends wait at most {@link FileTxnLog.Settings#STALL_TIMEOUT_DEFAULT} for room in a full queue. */
        public Settings(int batchRowsMax, int pendingAppendsMax, long purgeAfterMillis, long retryMaxMillis) {
            this(batchRowsMax, pendingAppendsMax, purgeAfterMillis, retryMaxMillis, FileTxnLog.Settings.STALL_TIMEOUT_DEFAULT);
        }

        public Settings withStallTimeout(Duration timeout) {
            return new Settings(batchRowsMax, pendingAppendsMax, purgeAfterMillis, retryMaxMillis, timeout);
        }

        public Settings {
            if (batchRowsMax < 1 || batchRowsMax > 1_000) {
                throw new IllegalArgumentException("batchRowsMax must be 1..1000, got " + batchRowsMax);
            }
            if (pendingAppendsMax < 1) {
                throw new IllegalArgumentException("pendingAppendsMax must be > 0, got " + pendingAppendsMax);
            }
            if (purgeAfterMillis < 0 || retryMaxMillis < 50) {
                throw new IllegalArgumentException("purgeAfterMillis must be >= 0 and retryMaxMillis >= 50");
            }
            if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
                throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
            }
        }
    }

    private enum State { NEW, OPEN, FAILED, CLOSED }

    private record Pending(List<LogRecord> records, List<byte[]> payloads, boolean sync, CompletableFuture<Void> future,
                           long handedOverNanos) {}

    private record Row(String xid, int outcome, byte[] payload) {}

    /** This node was taken over: nothing may be written any more. */
    private static final class FencedException extends Exception {
        FencedException(String message) {
            super(message);
        }
    }

    private final DataSource dataSource;
    private final AutoCloseable ownedDataSource;
    private final NodeTakeover takeover;
    private final JdbcCluster cluster;
    private final JdbcDialect dialect;
    private final String prefix;
    private final OperatorJournal operatorJournal;
    private final NodeLease lease;
    private final Settings settings;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workOrClose = lock.newCondition();
    private final Condition roomInQueue = lock.newCondition();
    // guarded by lock
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private State state = State.NEW;
    private TxnLogException failure;
    private Thread writer;

    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong decisionStatements = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private long lastPurgeNanos = System.nanoTime();
    /** Hand-over time of the oldest append in the batch the writer is writing; 0 while it writes none. */
    private volatile long inFlightSinceNanos;

    /**
     * @param ownedDataSource closed with this log (the pool it made), or null when the caller owns it
     */
    JdbcTxnLog(DataSource dataSource, AutoCloseable ownedDataSource, JdbcDialect dialect, String prefix, NodeLease lease,
               Settings settings) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.ownedDataSource = ownedDataSource;
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.operatorJournal = new JdbcOperatorJournal(dataSource, prefix);
        this.lease = Objects.requireNonNull(lease, "lease");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.takeover = new NodeTakeover(dataSource, dialect, prefix, lease);
        this.cluster = new JdbcCluster(dataSource, dialect, prefix, lease, Math.max(1, lease.ttlMillis() / 2));
    }

    /** Kept in the one row of the store's {@code <prefix>cluster} table, shared by every server on the store. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return ClusterIdStore.inTable(dataSource, dialect, prefix, configured);
    }

    /**
     * Claims this node's lease (a new epoch), then reads every row this node owns: the open ones and
     * the completed ones not yet purged, as the records that made them, in decision order.
     *
     * @throws TxnLogException       the store is unreachable, or the node id is held by a live server
     *                               (also: a row whose payload does not decode, which a crash cannot explain)
     */
    @Override
    public List<LogRecord> open() {
        lock.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("open() may be called once; the JDBC transaction log is " + state);
            }
            List<LogRecord> records;
            try {
                lease.claim();
                records = readOwnRows();
                cluster.start();
            } catch (SQLException e) {
                state = State.CLOSED;
                closeResources();
                throw new TxnLogException("cannot open the JDBC transaction log: " + JdbcUrls.masked(e.getMessage()), e);
            } catch (RuntimeException e) {
                state = State.CLOSED;
                closeResources();
                throw e;
            }
            writer = new Thread(this::writeLoop, "tm-log-writer");
            writer.setDaemon(false);
            state = State.OPEN;
            writer.start();
            log.info("JDBC transaction log open ({}, tables {}*): node {} epoch {}, {} records recovered",
                    dialect, prefix, lease.nodeId(), lease.epoch(), records.size());
            return records;
        } finally {
            lock.unlock();
        }
    }

    private List<LogRecord> readOwnRows() throws SQLException {
        List<LogRecord> records = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT xid, outcome, payload, completed_at FROM " + prefix + "decision"
                     + " WHERE owner_node = ? ORDER BY decided_at, xid")) {
            s.setInt(1, lease.nodeId());
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    records.addAll(DecisionRows.decode(prefix, r.getString(1), r.getInt(2), r.getBytes(3), r.getTimestamp(4) != null));
                }
            }
        }
        return records;
    }

    @Override
    public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        List<LogRecord> copy = List.copyOf(Objects.requireNonNull(records, "records"));
        List<byte[]> payloads = new ArrayList<>(copy.size());
        for (LogRecord r : copy) {
            payloads.add(r.keepsOpen() ? RecordCodec.encode(r) : null);
        }
        Pending pending = new Pending(copy, payloads, sync, new CompletableFuture<>(), System.nanoTime());
        long waitNanos = settings.stallTimeout().toNanos();
        lock.lock();
        try {
            while (true) {
                switch (state) {
                    case NEW -> throw new IllegalStateException("append before open() on the JDBC transaction log");
                    case CLOSED -> throw new IllegalStateException("the JDBC transaction log is closed");
                    case FAILED -> {
                        return CompletableFuture.failedFuture(new TxnLogException(
                                "the JDBC transaction log failed earlier and refuses appends until tm-server restarts", failure));
                    }
                    case OPEN -> { }
                }
                if (queue.size() < settings.pendingAppendsMax() || Thread.currentThread() == writer) {
                    break;
                }
                // Bounded, because the caller is the coordinator's loop thread. Normally the coordinator
                // refuses new work long before the queue fills (the store is shown stalled after
                // stall-timeout); a queue still full after that long means the loop cannot go on.
                if (waitNanos <= 0) {
                    throw new TxnLogException("the JDBC transaction log has had " + settings.pendingAppendsMax() + " appends queued for "
                            + settings.stallTimeout().toMillis() + " ms (tm.server.log.stall-timeout) without the store taking any");
                }
                try {
                    waitNanos = roomInQueue.awaitNanos(waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TxnLogException("interrupted while waiting for room in the JDBC log's queue", e);
                }
            }
            queue.add(pending);
            workOrClose.signal();
        } finally {
            lock.unlock();
        }
        return pending.future();
    }

    @Override
    public OperatorJournal operatorJournal() {
        return operatorJournal;
    }

    /** The batch being written (and retried) is older than anything queued. */
    @Override
    public OptionalLong oldestPendingSince() {
        lock.lock();
        try {
            long inFlight = inFlightSinceNanos;
            if (inFlight != 0) {
                return OptionalLong.of(inFlight);
            }
            return queue.isEmpty() ? OptionalLong.empty() : OptionalLong.of(queue.peek().handedOverNanos());
        } finally {
            lock.unlock();
        }
    }

    /**
     * A database that is down or unreachable is routine (a restart, a failover) and heals by itself:
     * the writer retries its idempotent batch until the store answers. Halting would not help (a
     * restart cannot open the store either, and would lose phase 2 in progress), so the coordinator
     * stays up, refuses new work and reports the store DOWN. If the outage outlasts the node's lease,
     * another server takes the node over and this one is fenced, which halts it.
     */
    @Override
    public StallPolicy stallPolicy() {
        return StallPolicy.REFUSE_NEW_WORK;
    }

    /** Writes what was accepted (while the store answers), then releases the lease and the pool. Idempotent. */
    @Override
    public void close() {
        Thread w;
        lock.lock();
        try {
            if (state == State.CLOSED) {
                return;
            }
            if (Thread.currentThread() == writer) {
                throw new IllegalStateException("close() from a completion callback on the log's writer thread would deadlock");
            }
            boolean opened = state != State.NEW;
            state = State.CLOSED;
            workOrClose.signalAll();
            roomInQueue.signalAll();
            w = opened ? writer : null;
        } finally {
            lock.unlock();
        }
        if (w != null) {
            try {
                w.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (w.isAlive()) {
                log.warn("JDBC transaction log: the store did not take the last writes within 10 s; closing without them");
                w.interrupt();
            }
        }
        closeResources();
        log.info("JDBC transaction log closed: {} records written in {} decision statements, {} retried batches",
                recordsWritten.get(), decisionStatements.get(), retries.get());
    }

    /** Watches the other nodes' leases every ttl/2 and takes over dead ones ({@link NodeTakeover}). */
    @Override
    public void startTakeovers(Adopter adopter) {
        lock.lock();
        try {
            if (state != State.OPEN) {
                throw new IllegalStateException("takeovers start after open(); the JDBC transaction log is " + state);
            }
        } finally {
            lock.unlock();
        }
        takeover.start(adopter);
    }

    /** The servers sharing this store, and rule R4 for the gtrids this one does not own; valid after {@link #open()}. */
    @Override
    public dev.xatm.coordinator.cluster.Cluster cluster() {
        return cluster;
    }

    private void closeResources() {
        cluster.close();
        takeover.close();
        lease.close();
        if (ownedDataSource != null) {
            try {
                ownedDataSource.close();
            } catch (Exception e) {
                log.warn("closing the JDBC store's pool: {}", e.toString());
            }
        }
    }

    javax.sql.DataSource dataSourceForTest() {
        return dataSource;
    }

    NodeLease leaseForTest() {
        return lease;
    }

    NodeTakeover takeoverForTest() {
        return takeover;
    }

    /** Records written since this instance opened. */
    public long recordsWritten() {
        return recordsWritten.get();
    }

    /** Decision upserts executed: one per batch of durable records (the JDBC store's "fsyncs"). */
    public long decisionStatements() {
        return decisionStatements.get();
    }

    /** The epoch this incarnation holds (the fencing token in every decision it writes). */
    public long epoch() {
        return lease.epoch();
    }

    public int nodeId() {
        return lease.nodeId();
    }

    // ---------------------------------------------------------------- the writer thread

    private void writeLoop() {
        while (true) {
            List<Pending> batch = new ArrayList<>();
            lock.lock();
            try {
                while (queue.isEmpty() && state == State.OPEN) {
                    workOrClose.await(1, TimeUnit.SECONDS);
                    if (queue.isEmpty()) {
                        break; // idle: time to purge
                    }
                }
                if (queue.isEmpty() && state != State.OPEN) {
                    return;
                }
                Pending p;
                while ((p = queue.poll()) != null) {
                    batch.add(p);
                }
                if (!batch.isEmpty()) {
                    inFlightSinceNanos = batch.get(0).handedOverNanos();
                }
                roomInQueue.signalAll();
            } catch (InterruptedException e) {
                fail(new TxnLogException("the JDBC log's writer was interrupted", e), List.of());
                return;
            } finally {
                lock.unlock();
            }
            if (batch.isEmpty()) {
                maybePurge();
                continue;
            }
            if (!writeWithRetries(batch)) {
                return;
            }
            inFlightSinceNanos = 0;
            maybePurge(); // rate-limited: under steady load the writer is never idle
        }
    }

    /** False when the log failed (fenced, or closed while the store was down). */
    private boolean writeWithRetries(List<Pending> batch) {
        long backoff = 50;
        for (int attempt = 1; ; attempt++) {
            try {
                write(batch);
                for (Pending p : batch) {
                    recordsWritten.addAndGet(p.records().size());
                    p.future().complete(null);
                }
                if (attempt > 1) {
                    log.info("JDBC transaction log: the store answers again; {} appends written after {} attempts", batch.size(), attempt);
                }
                return true;
            } catch (FencedException e) {
                lease.fenced(e.getMessage());
                fail(new TxnLogException("fenced: " + e.getMessage()), batch);
                return false;
            } catch (SQLException | RuntimeException e) {
                retries.incrementAndGet();
                if (closedNow() && attempt >= 3) {
                    fail(new TxnLogException("closed while the store was failing: " + e.getMessage(), e), batch);
                    return false;
                }
                // Nothing in the batch is acknowledged until it is written; the upsert is idempotent.
                log.warn("JDBC transaction log: writing {} appends failed (attempt {}), retrying in {} ms: {}",
                        batch.size(), attempt, backoff, e.toString());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    fail(new TxnLogException("interrupted while the store was failing", ie), batch);
                    return false;
                }
                backoff = Math.min(settings.retryMaxMillis(), backoff * 2);
            }
        }
    }

    private boolean closedNow() {
        lock.lock();
        try {
            return state == State.CLOSED;
        } finally {
            lock.unlock();
        }
    }

    private void fail(TxnLogException e, List<Pending> batch) {
        List<Pending> rest;
        lock.lock();
        try {
            if (state != State.CLOSED) {
                state = State.FAILED;
            }
            failure = e;
            rest = new ArrayList<>(queue);
            queue.clear();
            roomInQueue.signalAll();
        } finally {
            lock.unlock();
        }
        for (Pending p : batch) {
            p.future().completeExceptionally(e);
        }
        for (Pending p : rest) {
            p.future().completeExceptionally(e);
        }
    }

    /**
     * One batch: the durable rows first (one upsert per {@link Settings#batchRowsMax()} rows), then the
     * lazy updates. That order is safe: a lazy record only ever concerns a row appended earlier, in this
     * batch or an earlier one (Completed follows DecisionDurable; Aborted follows the PRE_COMMIT append).
     */
    private void write(List<Pending> batch) throws SQLException, FencedException {
        Map<String, Row> durable = new LinkedHashMap<>();
        List<String> aborted = new ArrayList<>();
        List<String> completed = new ArrayList<>();
        for (Pending p : batch) {
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
        int node = lease.nodeId();
        long epoch = lease.epoch();
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
        c.setAutoCommit(false);
        try {
            try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + prefix + "node WHERE node_id = ? " + dialect.shareLock())) {
                s.setInt(1, node);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next() || rs.getLong(1) != epoch) {
                        throw new FencedException("node " + node + " is no longer at epoch " + epoch
                                + ": another tm-server took it over, and this server's decisions were refused");
                    }
                }
            }
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
            c.commit();
        } catch (SQLException | RuntimeException | FencedException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
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
        int node = lease.nodeId();
        long epoch = lease.epoch();
        c.setAutoCommit(false);
        try {
            try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + prefix + "node WHERE node_id = ? " + dialect.shareLock())) {
                s.setInt(1, node);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next() || rs.getLong(1) != epoch) {
                        throw new FencedException("node " + node + " is no longer at epoch " + epoch + ": another tm-server took it over,"
                                + " and this server's rollback of a PRE_COMMIT record was refused");
                    }
                }
            }
            updateIn(c, "UPDATE " + prefix + "decision SET outcome = " + OUTCOME_ABORT + " WHERE outcome = " + OUTCOME_PRE_COMMIT
                    + " AND owner_node = " + node + " AND xid IN ", aborted);
            c.commit();
        } catch (SQLException | RuntimeException | FencedException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private long currentEpoch(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT epoch FROM " + prefix + "node WHERE node_id = ?")) {
            s.setInt(1, lease.nodeId());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    private void lazyUpdates(Connection c, List<String> completed) throws SQLException {
        String preamble = dialect.lazyWritesPreamble();
        c.setAutoCommit(false);
        try {
            if (preamble != null) {
                try (Statement s = c.createStatement()) {
                    s.execute(preamble);
                }
            }
            updateIn(c, "UPDATE " + prefix + "decision SET completed_at = " + dialect.now() + " WHERE completed_at IS NULL AND xid IN ",
                    completed);
            c.commit();
        } catch (SQLException | RuntimeException e) {
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
        if (System.nanoTime() - lastPurgeNanos < TimeUnit.SECONDS.toNanos(5)) {
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
