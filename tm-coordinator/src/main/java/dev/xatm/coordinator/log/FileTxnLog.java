package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The transaction log as append-only segment files in one directory (layout: {@link Segments},
 * record encoding: {@link RecordCodec}).
 *
 * <p><b>Threads.</b> {@link #append} may be called from any thread; it encodes on the caller's thread
 * and queues. The shared {@link GroupCommitWriter} owns the queue and the writer thread
 * ({@code tm-log-writer}); its batches go to a {@link SegmentWriter}: one write, then one
 * {@code fsync} if any append in the batch asked for sync (group commit), and only then are the
 * futures completed, in append order. {@link #close()} returns after everything appended before it is
 * written and fsynced.
 *
 * <p><b>Recovery</b> ({@link #open()}) is {@link FileRecovery}'s: a torn tail is cut, damage a crash
 * cannot explain stops the start. <b>Checkpoints</b> keep the log bounded ({@link SegmentWriter}).
 *
 * <p><b>Failure.</b> An I/O error while writing or syncing completes the affected futures
 * exceptionally and leaves the log failed: every later append fails at once. We never retry (see
 * {@link SegmentWriter}); a restart re-reads what really is on disk.
 */
public final class FileTxnLog extends GroupCommitLog {

    /**
     * Validated, immutable settings.
     *
     * @param segmentBytesMax   size at which the active segment is checkpointed into a new one
     *                          ({@code tm.server.file.segment-bytes-max})
     * @param pendingAppendsMax appends that may wait for the writer; beyond it {@link #append}
     *                          blocks the caller (back-pressure from a slow disk instead of unbounded memory)
     * @param truncateCorrupt   cut a segment at damage even when intact records follow it, logging at
     *                          ERROR what is dropped ({@code tm.server.file.truncate-corrupt}); off,
     *                          such damage stops {@link #open()}
     * @param stallTimeout      how long {@link #append} waits for room in a full queue before it fails
     *                          ({@code tm.server.log.stall-timeout}); the coordinator then halts
     */
    public record Settings(long segmentBytesMax, int pendingAppendsMax, boolean truncateCorrupt, Duration stallTimeout) {
        public static final long SEGMENT_BYTES_MIN = 4 * 1024;
        public static final long SEGMENT_BYTES_LIMIT = 1L << 30;
        public static final int PENDING_APPENDS_LIMIT = 10_000_000;
        public static final Duration STALL_TIMEOUT_DEFAULT = Duration.ofSeconds(30);

        public static Settings defaults() {
            return new Settings(64L * 1024 * 1024, 65_536);
        }

        public Settings {
            if (segmentBytesMax < SEGMENT_BYTES_MIN || segmentBytesMax > SEGMENT_BYTES_LIMIT) {
                throw new IllegalArgumentException("segmentBytesMax must be " + SEGMENT_BYTES_MIN + ".." + SEGMENT_BYTES_LIMIT + ", got " + segmentBytesMax);
            }
            if (pendingAppendsMax < 1 || pendingAppendsMax > PENDING_APPENDS_LIMIT) {
                throw new IllegalArgumentException("pendingAppendsMax must be 1.." + PENDING_APPENDS_LIMIT + ", got " + pendingAppendsMax);
            }
            if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
                throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
            }
        }

        /** Recovery refuses mid-log damage; a full queue makes appends wait {@link #STALL_TIMEOUT_DEFAULT} at most. */
        public Settings(long segmentBytesMax, int pendingAppendsMax) {
            this(segmentBytesMax, pendingAppendsMax, false, STALL_TIMEOUT_DEFAULT);
        }

        public Settings withSegmentBytesMax(long bytes) {
            return new Settings(bytes, pendingAppendsMax, truncateCorrupt, stallTimeout);
        }

        public Settings withTruncateCorrupt(boolean truncate) {
            return new Settings(segmentBytesMax, pendingAppendsMax, truncate, stallTimeout);
        }

        public Settings withStallTimeout(Duration timeout) {
            return new Settings(segmentBytesMax, pendingAppendsMax, truncateCorrupt, timeout);
        }

        public Settings withPendingAppendsMax(int appends) {
            return new Settings(segmentBytesMax, appends, truncateCorrupt, stallTimeout);
        }
    }

    /** How file data reaches stable storage. Production: {@code force(false)}; tests inject delays and failures. */
    @FunctionalInterface
    interface Forcer {
        void force(FileChannel channel) throws IOException;
    }

    static final Forcer FSYNC = channel -> channel.force(false);

    private static final Logger log = LoggerFactory.getLogger(FileTxnLog.class);

    /** Bounds one batch so a backlog is written in pieces of reasonable size, not one huge buffer. */
    private static final int BATCH_APPENDS_MAX = 4096;
    private static final int BATCH_BYTES_MAX = 4 * 1024 * 1024;
    /** One append is written as one piece, so it needs a bound of its own (far above any real batch of effects). */
    private static final int APPEND_BYTES_MAX = 64 * 1024 * 1024;

    private final Path dir;
    private final Settings settings;
    private final SegmentWriter segments;
    /** Set by {@link #open()}; released by {@link #close()} after the writer has stopped. */
    private volatile DirectoryLock directoryLock;

    public FileTxnLog(Path dir, Settings settings) {
        this(dir, settings, FSYNC);
    }

    FileTxnLog(Path dir, Settings settings, Forcer forcer) {
        this(Objects.requireNonNull(dir, "dir").toAbsolutePath(), settings, new SegmentWriter(dir.toAbsolutePath(), settings.segmentBytesMax(),
                Objects.requireNonNull(forcer, "forcer")));
    }

    private FileTxnLog(Path dir, Settings settings, SegmentWriter segments) {
        // A file log never gives up on its disk at close: what was accepted is written and fsynced, however long that takes.
        super(new GroupCommitWriter.Settings("transaction log " + dir, settings.pendingAppendsMax(), settings.stallTimeout(),
                "the disk does not complete writes or fsyncs", BATCH_APPENDS_MAX, BATCH_BYTES_MAX, 0, Long.MAX_VALUE),
                segments, new FileOperatorJournal(dir));
        this.dir = dir;
        this.settings = settings;
        this.segments = segments;
    }

    /** Kept in the file {@code cluster-id} beside the segments. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return ClusterIdStore.inDirectory(dir, configured);
    }

    /**
     * Locks the directory, recovers the segments and starts the writer. Returns the records of every
     * segment in order; after a checkpoint that a crash interrupted before it deleted the older
     * segments, the live Decisions appear twice (once in the old history, once in the new segment).
     *
     * @throws TxnLogException       the directory is unusable or in use by another tm-server
     * @throws LogCorruptedException damage that a crash cannot explain
     */
    @Override
    public List<LogRecord> open() {
        List<LogRecord> records = writer.open(() -> {
            FileRecovery.Recovered recovered = null;
            try {
                recovered = new FileRecovery(dir, settings.truncateCorrupt(), segments::force).recover();
                segments.start(recovered.activeSequence(), recovered.records());
                directoryLock = recovered.lock();
                return recovered.records();
            } catch (IOException | RuntimeException e) {
                segments.close();
                closeQuietly(recovered == null ? null : recovered.lock());
                if (e instanceof IOException io) {
                    throw new TxnLogException("cannot open transaction log in " + dir + ": " + io, io);
                }
                throw (RuntimeException) e;
            }
        });
        log.info("transaction log {} open: {} records recovered, {} live decisions, appending to {} ({} bytes)",
                dir, records.size(), segments.liveDecisions(), segments.activeSegment(), segments.activeBytes());
        return records;
    }

    /**
     * Queues {@code records} for writing. Records are checked and encoded here, so a record the log
     * cannot hold fails only its caller ({@link IllegalArgumentException}) and not the whole log.
     *
     * @throws IllegalStateException before {@link #open()} or after {@link #close()}
     */
    @Override
    public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        List<LogRecord> copy = List.copyOf(Objects.requireNonNull(records, "records"));
        SegmentAppender.Frames frames = SegmentAppender.encode(copy);
        if (frames.bytesLong() > APPEND_BYTES_MAX) {
            throw new IllegalArgumentException(copy.size() + " records of " + frames.bytesLong() + " bytes in one append; the log takes"
                    + " at most " + APPEND_BYTES_MAX + " bytes per append");
        }
        return queue(copy, frames.payloads(), (int) frames.bytesLong(), sync);
    }

    /**
     * A file log never retries a failed write (see the class comment), so a disk that does not finish
     * one within the bound will not make this log useful again without a restart: halt, as for an
     * I/O error, so the supervisor sees a dead node instead of one that silently decides nothing.
     */
    @Override
    public StallPolicy stallPolicy() {
        return StallPolicy.HALT;
    }

    /**
     * Stops accepting appends, lets the writer write and fsync everything accepted before, then
     * releases the files and the directory lock. Idempotent. Not from a future's callback running on
     * the writer thread (that would wait for itself).
     */
    @Override
    public void close() {
        if (!writer.close() || !writer.wasOpened()) {
            return;
        }
        // The writer has exited: its channel and the directory lock are ours to release.
        segments.close();
        closeQuietly(directoryLock);
        log.info("transaction log {} closed: {} records written, {} fsyncs, {} checkpoints",
                dir, writer.recordsWritten(), segments.fsyncs(), segments.checkpoints());
    }

    /** Data fsyncs since this instance opened: group commits plus the few each checkpoint needs. */
    public long fsyncs() {
        return segments.fsyncs();
    }

    /** Total time spent in data fsyncs since this instance opened, in nanoseconds. */
    public long fsyncNanos() {
        return segments.fsyncNanos();
    }

    /** Checkpoints (segment rolls) since this instance opened. */
    public long checkpoints() {
        return segments.checkpoints();
    }

    /** Decisions without a Completed, as of the last written batch. */
    public int liveDecisions() {
        return segments.liveDecisions();
    }

    public Path directory() {
        return dir;
    }

    private void closeQuietly(DirectoryLock lock) {
        if (lock == null) {
            return;
        }
        try {
            lock.close();
        } catch (IOException e) {
            log.warn("transaction log {}: releasing the directory lock failed: {}", dir, e.toString());
        }
    }
}
