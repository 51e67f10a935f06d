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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The transaction log in a PostgreSQL or MySQL/MariaDB database ({@code tm.server.store=jdbc}), for
 * deployments that already run one and want no local disk state, and for several tm-servers on one
 * store (docs/ha.md). Same contract as {@link FileTxnLog} (see {@link TxnLog}); the table layout is in
 * {@code sql/tm-server/}. Built by {@link JdbcStore#log}.
 *
 * <p><b>Group commit.</b> The shared {@link GroupCommitWriter} takes every pending append at once; a
 * {@link DecisionRowWriter} turns the batch into one fenced multi-row upsert (the database's own
 * commit is the fsync) plus the lazy updates, and the futures complete when it has committed. A lost
 * lazy write costs an idempotent resend after a restart, as with the file log.
 *
 * <p><b>Fencing.</b> Every upsert inserts only while this node's row still carries the epoch this
 * incarnation claimed ({@link NodeFence}, claimed in {@link #open()}); if another server took the node
 * over, the upsert inserts nothing and the log fails and tells the fence: it never retries, since a
 * zombie's decision must never become durable. The lease, the takeovers of other nodes and the
 * membership are not the log's: they are the {@code dev.xatm.coordinator.cluster} package's, which
 * provides the fence.
 *
 * <p><b>The database down.</b> A failed batch is retried with backoff until it succeeds; meanwhile
 * nothing in it is acknowledged, so no new decision is, and phase 2 of the transactions already
 * decided goes on in memory. Once the oldest append has waited {@code tm.server.log.stall-timeout},
 * the coordinator refuses new work with UNAVAILABLE and shows the store DOWN ({@link #stallPolicy()}).
 * Appends queue up to {@link Settings#pendingAppendsMax()} and then wait, at most the stall timeout.
 *
 * <p>Rows are purged a while after they are completed ({@link Settings#purgeAfterMillis()}).
 */
public final class JdbcTxnLog extends GroupCommitLog {
    private static final Logger log = LoggerFactory.getLogger(JdbcTxnLog.class);
    /** How long {@link #close()} waits for the store to take the last writes. */
    private static final long CLOSE_WAIT_MILLIS = 10_000;
    /** An idle writer still wakes this often, to purge completed rows. */
    private static final long IDLE_WAKE_MILLIS = 1_000;

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

    private final DataSource dataSource;
    private final AutoCloseable ownedDataSource;
    private final JdbcDialect dialect;
    private final String prefix;
    private final NodeFence fence;
    private final DecisionRowWriter rows;

    /**
     * @param ownedDataSource closed with this log (the pool it made), or null when the caller owns it
     * @param fence           claimed by {@link #open()}, released by {@link #close()} after the last write
     */
    JdbcTxnLog(DataSource dataSource, AutoCloseable ownedDataSource, JdbcDialect dialect, String prefix, NodeFence fence,
               Settings settings) {
        this(dataSource, ownedDataSource, dialect, prefix, fence, new DecisionRowWriter(dataSource, dialect, prefix, fence, settings),
                settings);
    }

    private JdbcTxnLog(DataSource dataSource, AutoCloseable ownedDataSource, JdbcDialect dialect, String prefix, NodeFence fence,
                       DecisionRowWriter rows, Settings settings) {
        super(new GroupCommitWriter.Settings("JDBC transaction log", settings.pendingAppendsMax(), settings.stallTimeout(),
                "the store takes no writes", Integer.MAX_VALUE, Long.MAX_VALUE, IDLE_WAKE_MILLIS, CLOSE_WAIT_MILLIS),
                rows, new JdbcOperatorJournal(dataSource, prefix));
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.ownedDataSource = ownedDataSource;
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.fence = Objects.requireNonNull(fence, "fence");
        this.rows = rows;
    }

    /** Kept in the one row of the store's {@code <prefix>cluster} table, shared by every server on the store. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return ClusterIdStore.inTable(dataSource, dialect, prefix, configured);
    }

    /**
     * Claims this node's fence (a new epoch), then reads every row this node owns: the open ones and
     * the completed ones not yet purged, as the records that made them, in decision order.
     *
     * @throws TxnLogException       the store is unreachable, or the node id is held by a live server
     *                               (also: a row whose payload does not decode, which a crash cannot explain)
     */
    @Override
    public List<LogRecord> open() {
        List<LogRecord> records = writer.open(() -> {
            try {
                fence.claim();
                return readOwnRows();
            } catch (SQLException e) {
                closeResources();
                throw new TxnLogException("cannot open the JDBC transaction log: " + JdbcUrls.masked(e.getMessage()), e);
            } catch (RuntimeException e) {
                closeResources();
                throw e;
            }
        });
        log.info("JDBC transaction log open ({}, tables {}*): node {} epoch {}, {} records recovered",
                dialect, prefix, fence.nodeId(), fence.epoch(), records.size());
        return records;
    }

    private List<LogRecord> readOwnRows() throws SQLException {
        List<LogRecord> records = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT xid, outcome, payload, completed_at FROM " + prefix + "decision"
                     + " WHERE owner_node = ? ORDER BY decided_at, xid")) {
            s.setInt(1, fence.nodeId());
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    records.addAll(DecisionRows.decode(prefix, r.getString(1), r.getInt(2), r.getBytes(3), r.getTimestamp(4) != null));
                }
            }
        }
        return records;
    }

    /** Encodes only what becomes a row's payload; a Completed or an Aborted changes a row that exists. */
    @Override
    public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        List<LogRecord> copy = List.copyOf(Objects.requireNonNull(records, "records"));
        List<byte[]> payloads = new ArrayList<>(copy.size());
        for (LogRecord r : copy) {
            payloads.add(r.keepsOpen() ? RecordCodec.encode(r) : null);
        }
        return queue(copy, payloads, 0, sync);
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

    /**
     * Writes what was accepted (while the store answers, at most 10 s), then releases the fence and the
     * pool. Idempotent.
     */
    @Override
    public void close() {
        if (!writer.close()) {
            return;
        }
        closeResources();
        log.info("JDBC transaction log closed: {} records written in {} decision statements, {} retried batches",
                writer.recordsWritten(), rows.decisionStatements(), rows.retries());
    }

    private void closeResources() {
        fence.close();
        if (ownedDataSource != null) {
            try {
                ownedDataSource.close();
            } catch (Exception e) {
                log.warn("closing the JDBC store's pool: {}", e.toString());
            }
        }
    }

    DataSource dataSourceForTest() {
        return dataSource;
    }

    /** Decision upserts executed: one per batch of durable records (the JDBC store's "fsyncs"). */
    public long decisionStatements() {
        return rows.decisionStatements();
    }

    /** The epoch this incarnation holds (the fencing token in every decision it writes). */
    public long epoch() {
        return fence.epoch();
    }

    public int nodeId() {
        return fence.nodeId();
    }
}
