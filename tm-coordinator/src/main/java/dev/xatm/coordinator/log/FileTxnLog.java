package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The transaction log as append-only segment files in one directory (layout: {@link Segments},
 * record encoding: {@link RecordCodec}).
 *
 * <p><b>Threads.</b> {@link #append} may be called from any thread; it encodes on the caller's thread
 * and queues. One writer thread ({@code tm-log-writer}) owns the files: it drains everything queued,
 * writes it with one write, then calls {@code fsync} once if any append in the batch asked for sync
 * (group commit), and only then completes the futures, in append order. Futures complete on the
 * writer thread, so callbacks attached to them without an executor must be short (hand the result to
 * the engine's queue). The writer is a normal (non-daemon) thread: {@link #close()} stops it after it
 * has written, and fsynced, everything appended before the close.
 *
 * <p><b>Recovery</b> ({@link #open()}): every segment is read, oldest first. Damage at the end of the
 * newest segment with nothing intact after it is a torn append from a crash: it is cut off and
 * reported in one WARN line. Damage anywhere else (intact records after it, a later segment, a bad
 * header) cannot come from a crash (see {@code checkpoint()}) and stops start-up with
 * {@link LogCorruptedException}, unless the operator set {@code tm.server.file.truncate-corrupt}, which
 * cuts it anyway and logs every dropped record at ERROR.
 *
 * <p><b>Checkpoints</b> keep the log bounded. The writer tracks the live set (Decisions without a
 * later Completed). Once the active segment reaches {@code segmentBytesMax}, and at least twice the
 * size of the checkpoint it started with, the writer starts a new segment that begins with the live
 * Decisions and deletes the older ones. Disk use therefore stays below about
 * {@code max(segmentBytesMax, 2 x live set)} plus one batch, and rewriting the live set costs at most
 * as much as the appends that preceded it.
 *
 * <p><b>Failure.</b> An I/O error while writing or syncing completes the affected futures
 * exceptionally and leaves the log failed: every later append fails at once. We never retry: after a
 * failed fsync the kernel may already have dropped the dirty pages and will report the next fsync as
 * a success (the PostgreSQL "fsyncgate" lesson), so a retry could acknowledge a COMMIT decision that
 * is not on disk. A restart re-reads what really is on disk.
 */
public final class FileTxnLog implements TxnLog {

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

    private enum State { NEW, OPEN, FAILED, CLOSED }

    private record Pending(List<LogRecord> records, List<byte[]> payloads, int frameBytes, boolean sync, CompletableFuture<Void> future,
                           long handedOverNanos) {}

    private final Path dir;
    private final OperatorJournal operatorJournal;
    private final Settings settings;
    private final Forcer forcer;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workOrClose = lock.newCondition();
    private final Condition roomInQueue = lock.newCondition();
    // guarded by lock
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private State state = State.NEW;
    private TxnLogException failure;
    private Thread writer;

    // Set up by open(), then owned by the writer thread alone (Thread.start and join order the handovers).
    private DirectoryLock directoryLock;
    private FileChannel active;
    private long activeSequence;
    private long activeBytes;
    /** Size of the checkpoint the active segment started with: see {@link #maybeCheckpoint()}. */
    private long checkpointBytes;
    /** Bytes were written to the active segment since its last fsync. */
    private boolean unsynced;
    /** Live Decisions by gtrid, in decision order, as encoded payloads ready to be rewritten. */
    private final LinkedHashMap<String, byte[]> live = new LinkedHashMap<>();
    private long liveFrameBytes;
    private ByteBuffer writeBuffer = ByteBuffer.allocate(64 * 1024);

    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    // For metrics: cumulative, so a scrape reads them without any cost on the write path but an add.
    private final AtomicLong fsyncNanos = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong appends = new AtomicLong();
    private final AtomicLong appendNanos = new AtomicLong();
    private volatile int liveDecisions;
    /** Hand-over time of the oldest append in the batch the writer is writing; 0 while it writes none. */
    private volatile long inFlightSinceNanos;

    public FileTxnLog(Path dir, Settings settings) {
        this(dir, settings, FSYNC);
    }

    FileTxnLog(Path dir, Settings settings, Forcer forcer) {
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath();
        this.operatorJournal = new FileOperatorJournal(this.dir);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.forcer = Objects.requireNonNull(forcer, "forcer");
    }

    /**
     * Locks the directory, recovers the segments and starts the writer. Returns the records of every
     * segment in order; after a checkpoint that a crash interrupted before it deleted the older
     * segments, the live Decisions appear twice (once in the old history, once in the new segment).
     *
     * @throws TxnLogException       the directory is unusable or in use by another tm-server
     * @throws LogCorruptedException damage that a crash cannot explain
     */
    /** Kept in the file {@code cluster-id} beside the segments. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return ClusterIdStore.inDirectory(dir, configured);
    }

    @Override
    public List<LogRecord> open() {
        // Held throughout, so an append racing with open() waits and then sees the outcome.
        lock.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("open() may be called once; transaction log " + dir + " is " + state);
            }
            List<LogRecord> records;
            try {
                records = recover();
            } catch (IOException e) {
                state = State.CLOSED;
                throw new TxnLogException("cannot open transaction log in " + dir + ": " + e, e);
            } catch (RuntimeException e) {
                state = State.CLOSED;
                throw e;
            }
            writer = new Thread(this::writeLoop, "tm-log-writer");
            writer.setDaemon(false);
            state = State.OPEN;
            writer.start();
            log.info("transaction log {} open: {} records recovered, {} live decisions, appending to {} ({} bytes)",
                    dir, records.size(), live.size(), Segments.fileName(activeSequence), activeBytes);
            return records;
        } finally {
            lock.unlock();
        }
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
        List<byte[]> payloads = new ArrayList<>(copy.size());
        long frameBytes = 0;
        for (LogRecord r : copy) {
            byte[] payload = RecordCodec.encode(r);
            payloads.add(payload);
            frameBytes += Segments.frameBytes(payload);
        }
        if (frameBytes > APPEND_BYTES_MAX) {
            throw new IllegalArgumentException(copy.size() + " records of " + frameBytes + " bytes in one append; the log takes at most "
                    + APPEND_BYTES_MAX + " bytes per append");
        }
        Pending pending = new Pending(copy, payloads, (int) frameBytes, sync, new CompletableFuture<>(), System.nanoTime());
        long waitNanos = settings.stallTimeout().toNanos();
        lock.lock();
        try {
            while (true) {
                switch (state) {
                    case NEW -> throw new IllegalStateException("append before open() on transaction log " + dir);
                    case CLOSED -> throw new IllegalStateException("transaction log " + dir + " is closed");
                    case FAILED -> {
                        return CompletableFuture.failedFuture(new TxnLogException(
                                "transaction log " + dir + " failed earlier and refuses appends until tm-server restarts", failure));
                    }
                    case OPEN -> { }
                }
                // The writer itself may append from a completion callback; waiting there for room
                // that only it can make would deadlock, so it may overfill the queue.
                if (queue.size() < settings.pendingAppendsMax() || Thread.currentThread() == writer) {
                    break;
                }
                // Bounded: the caller is the coordinator's loop thread, and a disk that has not taken
                // a batch for this long is stuck, not slow. Failing here makes the coordinator halt.
                if (waitNanos <= 0) {
                    throw new TxnLogException("transaction log " + dir + " has had " + settings.pendingAppendsMax()
                            + " appends queued for " + settings.stallTimeout().toMillis() + " ms (tm.server.log.stall-timeout)"
                            + " without the writer taking any: the disk does not complete writes or fsyncs");
                }
                try {
                    waitNanos = roomInQueue.awaitNanos(waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TxnLogException("interrupted while waiting for room in the queue of transaction log " + dir
                            + " (" + settings.pendingAppendsMax() + " appends pending)", e);
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

    /**
     * The batch being written is older than anything queued (batches leave the queue in order), so
     * the oldest waiting append is its first one, or else the queue's head. A hung write or fsync
     * shows here as an age that keeps growing.
     */
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
        Thread w;
        lock.lock();
        try {
            if (state == State.CLOSED) {
                return;
            }
            if (Thread.currentThread() == writer) {
                // close() waits for the writer, which is busy running this very callback
                throw new IllegalStateException("close() called from a completion callback on the log's writer thread would deadlock;"
                        + " close the log from another thread");
            }
            boolean opened = state != State.NEW;
            state = State.CLOSED;
            workOrClose.signalAll();
            roomInQueue.signalAll();
            if (!opened) {
                return;
            }
            w = writer;
        } finally {
            lock.unlock();
        }
        joinUninterruptibly(w);
        // The writer has exited: its channel and the directory lock are ours to release.
        closeQuietly(active, "active segment");
        closeQuietly(directoryLock, "directory lock");
        log.info("transaction log {} closed: {} records written, {} fsyncs, {} checkpoints",
                dir, recordsWritten.get(), fsyncs.get(), checkpoints.get());
    }

    /** Records written since this instance opened (not counting checkpoint copies). */
    public long recordsWritten() {
        return recordsWritten.get();
    }

    /** Data fsyncs since this instance opened: group commits plus the few each checkpoint needs. */
    public long fsyncs() {
        return fsyncs.get();
    }

    /** Total time spent in data fsyncs since this instance opened, in nanoseconds. */
    public long fsyncNanos() {
        return fsyncNanos.get();
    }

    /** Group commits (batches of appends written with one write, and one fsync if any append asked) since this instance opened. */
    public long batches() {
        return batches.get();
    }

    /** Appends written since this instance opened (an append is one coordinator step's records). */
    public long appends() {
        return appends.get();
    }

    /** Total time appends waited from hand-over to written (and synced when asked), in nanoseconds. */
    public long appendNanos() {
        return appendNanos.get();
    }

    /** Checkpoints (segment rolls) since this instance opened. */
    public long checkpoints() {
        return checkpoints.get();
    }

    /** Decisions without a Completed, as of the last written batch. */
    public int liveDecisions() {
        return liveDecisions;
    }

    public Path directory() {
        return dir;
    }

    // ---- recovery (caller's thread, under lock, before the writer exists) ----

    private List<LogRecord> recover() throws IOException {
        prepareDirectory();
        directoryLock = DirectoryLock.acquire(dir);
        try {
            for (Path unfinished : Segments.listUnfinished(dir)) {
                // a checkpoint interrupted before its rename: the older segments are all still there
                Files.delete(unfinished);
                log.info("transaction log {}: deleted {}, a segment whose creation a crash interrupted", dir, unfinished.getFileName());
            }
            List<Segments.Segment> segments = Segments.list(dir);
            requireContiguous(segments);
            List<LogRecord> records = new ArrayList<>();
            for (int i = 0; i < segments.size(); i++) {
                Segments.Segment segment = segments.get(i);
                Segments.Scan scan = Segments.scan(segment);
                records.addAll(scan.records());
                if (scan.clean()) {
                    continue;
                }
                if (scan.headerBad()) {
                    throw new LogCorruptedException(segment.path(), 0, scan.problem(),
                            "A segment's header is synced before the segment gets its name, so a crash cannot damage it");
                }
                List<Segments.Segment> later = segments.subList(i + 1, segments.size());
                if (later.isEmpty() && scan.intactAfterProblem().isEmpty()) {
                    dropTornTail(segment.path(), scan);
                } else if (settings.truncateCorrupt()) {
                    truncateCorrupt(segment.path(), scan, later);
                } else {
                    throw corrupted(segment.path(), scan, later);
                }
            }
            if (segments.isEmpty()) {
                activeSequence = 1;
                Segments.create(dir, activeSequence, List.of(), this::force);
            } else {
                activeSequence = segments.get(segments.size() - 1).sequence();
            }
            active = FileChannel.open(dir.resolve(Segments.fileName(activeSequence)), StandardOpenOption.WRITE);
            activeBytes = active.size();
            active.position(activeBytes);
            for (LogRecord r : records) {
                track(r, RecordCodec.encode(r));
            }
            liveDecisions = live.size();
            // what the next checkpoint would write; the active segment may have started smaller or larger
            checkpointBytes = Segments.HEADER_BYTES + liveFrameBytes;
            return List.copyOf(records);
        } catch (IOException | RuntimeException e) {
            closeQuietly(active, "active segment");
            closeQuietly(directoryLock, "directory lock");
            throw e;
        }
    }

    private void prepareDirectory() {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new TxnLogException("tm-data directory " + dir + " exists but is not a directory");
        }
        if (!Files.exists(dir)) {
            try {
                Files.createDirectories(dir);
                // the new directory's own name must survive a power loss as surely as the segments in it
                Segments.syncDirectory(dir.getParent());
            } catch (IOException e) {
                throw new TxnLogException("cannot create tm-data directory " + dir + ": " + e, e);
            }
        }
        if (!Files.isWritable(dir)) {
            throw new TxnLogException("tm-data directory " + dir + " is not writable by this process (user "
                    + System.getProperty("user.name") + ")");
        }
    }

    /**
     * Checkpoints delete older segments oldest first and stop at the first failure, so the segments
     * on disk are always a run without holes. A hole means someone removed a file; reading across it
     * could show a Decision without the Completed record that followed it.
     */
    private void requireContiguous(List<Segments.Segment> segments) {
        for (int i = 1; i < segments.size(); i++) {
            long previous = segments.get(i - 1).sequence();
            if (segments.get(i).sequence() != previous + 1) {
                throw new TxnLogException("transaction log " + dir + " is missing segment(s) between " + Segments.fileName(previous)
                        + " and " + Segments.fileName(segments.get(i).sequence()) + "; tm-server never leaves such a gap."
                        + " Restore the missing files, or remove the segments before the gap if you know they are obsolete");
            }
        }
    }

    /**
     * Only a torn tail is cut without asking: damage with nothing intact after it, in the newest
     * segment. That is what a crash during an append leaves, and nothing in it was acknowledged (its
     * fsync never returned).
     */
    private void dropTornTail(Path file, Segments.Scan scan) throws IOException {
        truncate(file, scan.validBytes());
        log.warn("transaction log {}: dropped {} bytes at the end of {} from offset {} ({}), the tail of an append torn by a crash",
                dir, scan.fileBytes() - scan.validBytes(), file.getFileName(), scan.validBytes(), scan.problem());
    }

    /**
     * Damage followed by intact records, or in a segment that a later one follows, is not what a crash
     * of ours leaves (appends are sequential and a segment is synced before its successor exists): the
     * disk or someone else changed the file, and the records after the damage may be acknowledged
     * COMMIT decisions. Cutting them would presume those transactions aborted while some branches
     * committed, so start-up stops and the operator decides.
     */
    private LogCorruptedException corrupted(Path file, Segments.Scan scan, List<Segments.Segment> later) {
        String why = (later.isEmpty() ? "It is the newest segment, but " : "It is not the newest segment, and a segment is synced completely"
                + " before its successor is created, so a crash cannot have torn it; moreover ") + whatFollows(scan, later)
                + ", which a torn append does not leave";
        return new LogCorruptedException(file, scan.validBytes(), scan.problem(), why,
                "Restore the file from a copy; or, to cut the segment at this offset and lose what follows in it (each dropped record"
                        + " is then logged at ERROR), start once with " + TRUNCATE_CORRUPT_PROPERTY + "=true. If the host lost power while"
                        + " tm-server was writing, the intact records after the damage may also be an unacknowledged batch whose earlier"
                        + " page never reached the disk; cutting is safe then");
    }

    /** The operator asked for it ({@value #TRUNCATE_CORRUPT_PROPERTY}): cut anyway, and say exactly what is lost. */
    private void truncateCorrupt(Path file, Segments.Scan scan, List<Segments.Segment> later) throws IOException {
        truncate(file, scan.validBytes());
        List<LogRecord> dropped = scan.intactAfterProblem().stream().map(FrameReader.Frame::record).toList();
        List<String> decisions = dropped.stream().filter(r -> r instanceof LogRecord.Decision).map(LogRecord::gtrid).distinct().toList();
        log.error("transaction log {}: {}=true: cut {} at offset {} ({}), dropping {} bytes that held {} intact record(s) after the damage{}."
                        + " COMMIT decisions dropped (their transactions are presumed aborted unless a later record repeats them): {}."
                        + " Dropped records: {}",
                dir, TRUNCATE_CORRUPT_PROPERTY, file.getFileName(), scan.validBytes(), scan.problem(), scan.fileBytes() - scan.validBytes(),
                dropped.size(), later.isEmpty() ? "" : " (" + later.size() + " later segment(s) are kept)",
                decisions.isEmpty() ? "none" : limited(decisions), dropped.isEmpty() ? "none" : limited(dropped.stream().map(FileTxnLog::describe).toList()));
    }

    static final String TRUNCATE_CORRUPT_PROPERTY = "tm.server.file.truncate-corrupt";
    /** Bounds a list in a log line or message; the count is always given in full. */
    private static final int LISTED_MAX = 100;

    private static String whatFollows(Segments.Scan scan, List<Segments.Segment> later) {
        List<FrameReader.Frame> after = scan.intactAfterProblem();
        StringBuilder b = new StringBuilder();
        if (!after.isEmpty()) {
            b.append(after.size()).append(" intact record(s) follow the damage in this segment, the first at byte offset ")
                    .append(after.get(0).offset()).append(": ").append(limited(after.stream().map(f -> describe(f.record())).toList()));
        }
        if (!later.isEmpty()) {
            b.append(after.isEmpty() ? "" : ", and ").append(later.size()).append(" later segment(s) follow it (")
                    .append(later.get(0).path().getFileName()).append(later.size() > 1 ? " ..." : "").append(")");
        }
        return b.toString();
    }

    private static String describe(LogRecord r) {
        String kind = r instanceof LogRecord.Decision ? "COMMIT decision" : r.getClass().getSimpleName();
        return kind + " " + r.gtrid();
    }

    private static String limited(List<String> items) {
        return items.size() <= LISTED_MAX ? String.join(", ", items)
                : String.join(", ", items.subList(0, LISTED_MAX)) + " ... (" + (items.size() - LISTED_MAX) + " more)";
    }

    private void truncate(Path file, long validBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(validBytes);
            force(ch);
        }
    }

    // ---- the writer thread ----

    private void writeLoop() {
        List<Pending> batch = List.of();
        try {
            while ((batch = takeBatch()) != null) {
                writeBatch(batch);
                inFlightSinceNanos = 0;
                batch = List.of();
                maybeCheckpoint();
            }
            if (unsynced) {
                // clean shutdown: records appended without sync are not left to chance either
                force(active);
                unsynced = false;
            }
        } catch (Throwable t) {
            // an I/O error, or a bug: either way no append may be acknowledged any more
            fail(t, batch);
            if (t instanceof Error e) {
                throw e;
            }
        }
    }

    /** Everything queued (within the batch bounds), or null once closed and drained. */
    private List<Pending> takeBatch() {
        lock.lock();
        try {
            while (queue.isEmpty() && state == State.OPEN) {
                workOrClose.awaitUninterruptibly();
            }
            if (queue.isEmpty()) {
                return null;
            }
            List<Pending> batch = new ArrayList<>(Math.min(queue.size(), BATCH_APPENDS_MAX));
            long bytes = 0;
            while (!queue.isEmpty() && batch.size() < BATCH_APPENDS_MAX
                    && (batch.isEmpty() || bytes + queue.peek().frameBytes() <= BATCH_BYTES_MAX)) {
                Pending p = queue.poll();
                batch.add(p);
                bytes += p.frameBytes();
            }
            inFlightSinceNanos = batch.get(0).handedOverNanos();
            roomInQueue.signalAll();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void writeBatch(List<Pending> batch) throws IOException {
        int bytes = 0;
        int records = 0;
        boolean sync = false;
        for (Pending p : batch) {
            bytes += p.frameBytes();
            records += p.records().size();
            sync |= p.sync();
        }
        if (writeBuffer.capacity() < bytes) {
            writeBuffer = ByteBuffer.allocate(Math.max(bytes, 2 * writeBuffer.capacity()));
        }
        writeBuffer.clear();
        for (Pending p : batch) {
            for (byte[] payload : p.payloads()) {
                Segments.putFrame(writeBuffer, payload);
            }
        }
        Segments.writeFully(active, writeBuffer.flip());
        activeBytes += bytes;
        unsynced |= bytes > 0;
        if (sync && unsynced) {
            force(active);
            unsynced = false;
        }
        recordsWritten.addAndGet(records);
        for (Pending p : batch) {
            for (int i = 0; i < p.records().size(); i++) {
                track(p.records().get(i), p.payloads().get(i));
            }
        }
        liveDecisions = live.size();
        batches.incrementAndGet();
        long writtenNanos = System.nanoTime();
        long waited = 0;
        for (Pending p : batch) {
            waited += writtenNanos - p.handedOverNanos();
        }
        appendNanos.addAndGet(waited);
        appends.addAndGet(batch.size());
        // Only now: for a sync append, its bytes and everything before them are on stable storage.
        for (Pending p : batch) {
            // completion callbacks (the coordinator's DecisionDurable) log under the transaction's gtrid
            try (XidMdc.Scope mdc = XidMdc.put(commonGtrid(p.records()))) {
                if (log.isDebugEnabled()) {
                    log.debug("{} record(s) written{}", p.records().size(), p.sync() ? " and synced" : "");
                }
                p.future().complete(null);
            }
        }
    }

    /** The gtrid all {@code records} belong to, or null when they belong to several (or none). */
    private static String commonGtrid(List<LogRecord> records) {
        String gtrid = records.isEmpty() ? null : records.get(0).gtrid();
        for (int i = 1; i < records.size() && gtrid != null; i++) {
            if (!gtrid.equals(records.get(i).gtrid())) {
                gtrid = null;
            }
        }
        return gtrid;
    }

    private void track(LogRecord record, byte[] payload) {
        // A Decision, a 3PC PRE_COMMIT or a rollback's Heuristics keeps its transaction live, and the
        // latest one of a gtrid is all a restart needs; Completed or a 3PC Aborted ends it, so a
        // checkpoint drops it and a restart presumes abort, which is what an aborted transaction's
        // branches get anyway.
        if (record.keepsOpen()) {
            byte[] previous = live.put(record.gtrid(), payload);
            liveFrameBytes += Segments.frameBytes(payload) - (previous == null ? 0 : Segments.frameBytes(previous));
        } else {
            byte[] previous = live.remove(record.gtrid());
            if (previous != null) {
                liveFrameBytes -= Segments.frameBytes(previous);
            }
        }
    }

    /**
     * A checkpoint rewrites the whole live set, so the segment must also have grown to twice the
     * checkpoint it started with: when very many decisions are live, rewriting them then costs at
     * most as much as the appends since the last checkpoint, instead of happening after every batch.
     */
    private void maybeCheckpoint() throws IOException {
        if (activeBytes >= settings.segmentBytesMax() && activeBytes >= 2 * checkpointBytes) {
            checkpoint();
        }
    }

    /**
     * Starts segment n+1 with the live Decisions and deletes segments up to n. A crash at any step
     * leaves a readable log that still holds every live decision:
     * <ol>
     *   <li>fsync segment n. It is about to stop being the newest, and recovery reads damage in an
     *       older segment as corruption, not as a torn tail; so it must be complete on disk first.</li>
     *   <li>write {@code txn-(n+1).log.tmp}, fsync it, rename it, fsync the directory. A crash before
     *       the rename leaves a .tmp that recovery deletes; segments up to n are untouched.</li>
     *   <li>delete segments up to n, oldest first. A crash before or during this leaves a suffix of
     *       them next to n+1: recovery reads their records again, then the same live Decisions from
     *       n+1. Duplicates are harmless (the core tolerates them); nothing is lost.</li>
     * </ol>
     * The directory is not synced after the deletions: if they are forgotten in a crash, that is the
     * previous case.
     */
    private void checkpoint() throws IOException {
        if (unsynced) {
            force(active);
            unsynced = false;
        }
        long next = activeSequence + 1;
        long size = Segments.create(dir, next, live.values(), this::force);
        FileChannel successor = FileChannel.open(dir.resolve(Segments.fileName(next)), StandardOpenOption.WRITE);
        successor.position(size);
        FileChannel previous = active;
        active = successor;
        activeSequence = next;
        activeBytes = size;
        checkpointBytes = size;
        closeQuietly(previous, "previous segment");
        checkpoints.incrementAndGet();
        int deleted = deleteSegmentsBefore(next);
        log.debug("transaction log {}: checkpoint {} holds {} live decisions ({} bytes); deleted {} older segment(s)",
                dir, Segments.fileName(next), live.size(), size, deleted);
    }

    /** Oldest first, stopping at the first failure so that no hole appears (see {@link #requireContiguous}). */
    private int deleteSegmentsBefore(long sequence) {
        int deleted = 0;
        try {
            for (Segments.Segment s : Segments.list(dir)) {
                if (s.sequence() >= sequence) {
                    break;
                }
                Files.delete(s.path());
                deleted++;
            }
        } catch (IOException e) {
            // Not a durability problem: those segments only repeat what the new one holds. The next
            // checkpoint tries again.
            log.warn("transaction log {}: could not delete an old segment ({}); it holds only history the newest segment repeats", dir, e.toString());
        }
        return deleted;
    }

    private void force(FileChannel channel) throws IOException {
        long start = System.nanoTime();
        forcer.force(channel);
        fsyncNanos.addAndGet(System.nanoTime() - start);
        fsyncs.incrementAndGet();
    }

    private void fail(Throwable cause, List<Pending> batch) {
        TxnLogException error = new TxnLogException("writing transaction log " + dir + " (" + Segments.fileName(activeSequence)
                + ") failed: " + cause + ". The log refuses all further appends: after a failed write or fsync we cannot know"
                + " what reached the disk, and retrying could acknowledge a decision that is not durable. Restart tm-server"
                + " to recover from what is on disk", cause);
        List<Pending> abandoned = new ArrayList<>(batch);
        lock.lock();
        try {
            if (state == State.OPEN) {
                state = State.FAILED;
            }
            failure = error;
            abandoned.addAll(queue);
            queue.clear();
            roomInQueue.signalAll();
        } finally {
            lock.unlock();
        }
        log.error(error.getMessage(), cause);
        for (Pending p : abandoned) {
            p.future().completeExceptionally(error);
        }
    }

    // ---- helpers ----

    private static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeQuietly(AutoCloseable closeable, String what) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (Exception e) {
            log.warn("transaction log {}: closing the {} failed: {}", dir, what, e.toString());
        }
    }
}
