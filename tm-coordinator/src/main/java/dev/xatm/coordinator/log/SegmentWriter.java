package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The file log's {@link GroupCommitWriter.BatchWriter}: a batch becomes CRC32C frames, one write to the
 * active segment, then one fsync if any append in it asked for sync. It also keeps the log bounded.
 *
 * <p><b>Checkpoints.</b> It tracks the live set (Decisions without a later Completed). Once the active
 * segment reaches {@code segmentBytesMax}, and at least twice the size of the checkpoint it started
 * with, it starts a new segment that begins with the live Decisions and deletes the older ones. Disk
 * use therefore stays below about {@code max(segmentBytesMax, 2 x live set)} plus one batch, and
 * rewriting the live set costs at most as much as the appends that preceded it.
 *
 * <p><b>Failure.</b> An I/O error is never retried: after a failed fsync the kernel may already have
 * dropped the dirty pages and will report the next fsync as a success (the PostgreSQL "fsyncgate"
 * lesson), so a retry could acknowledge a COMMIT decision that is not on disk. A restart re-reads
 * what really is on disk.
 *
 * <p>Threads: set up by {@link #start} on the opening thread before the writer thread exists, then
 * used by the writer thread alone ({@code Thread.start} and {@code join} order the hand-overs). The
 * counters may be read from any thread.
 */
final class SegmentWriter implements GroupCommitWriter.BatchWriter {
    private static final Logger log = LoggerFactory.getLogger(FileTxnLog.class);

    private final Path dir;
    private final long segmentBytesMax;
    private final FileTxnLog.Forcer forcer;

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

    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong fsyncNanos = new AtomicLong();
    private final AtomicLong checkpoints = new AtomicLong();
    private volatile int liveDecisions;

    SegmentWriter(Path dir, long segmentBytesMax, FileTxnLog.Forcer forcer) {
        this.dir = dir;
        this.segmentBytesMax = segmentBytesMax;
        this.forcer = forcer;
    }

    /** Appends continue at the end of segment {@code activeSequence}; {@code recovered} is the log's content. */
    void start(long activeSequence, List<LogRecord> recovered) throws IOException {
        this.activeSequence = activeSequence;
        active = FileChannel.open(dir.resolve(Segments.fileName(activeSequence)), StandardOpenOption.WRITE);
        activeBytes = active.size();
        active.position(activeBytes);
        for (LogRecord r : recovered) {
            track(r, RecordCodec.encode(r));
        }
        liveDecisions = live.size();
        // what the next checkpoint would write; the active segment may have started smaller or larger
        checkpointBytes = Segments.HEADER_BYTES + liveFrameBytes;
    }

    @Override
    public void write(List<GroupCommitWriter.Append> batch) throws IOException {
        int bytes = 0;
        boolean sync = false;
        for (GroupCommitWriter.Append a : batch) {
            bytes += a.bytes();
            sync |= a.sync();
        }
        if (writeBuffer.capacity() < bytes) {
            writeBuffer = ByteBuffer.allocate(Math.max(bytes, 2 * writeBuffer.capacity()));
        }
        writeBuffer.clear();
        for (GroupCommitWriter.Append a : batch) {
            for (byte[] payload : a.payloads()) {
                Segments.putFrame(writeBuffer, payload);
            }
        }
        Segments.writeFully(active, writeBuffer.flip());
        activeBytes += bytes;
        unsynced |= bytes > 0;
        // Only then are the futures completed: for a sync append, its bytes and everything before them are on stable storage.
        if (sync && unsynced) {
            force(active);
            unsynced = false;
        }
        for (GroupCommitWriter.Append a : batch) {
            for (int i = 0; i < a.records().size(); i++) {
                track(a.records().get(i), a.payloads().get(i));
            }
        }
        liveDecisions = live.size();
    }

    @Override
    public void afterBatch() throws IOException {
        maybeCheckpoint();
    }

    /** Clean shutdown: records appended without sync are not left to chance either. */
    @Override
    public void drained() throws IOException {
        if (unsynced) {
            force(active);
            unsynced = false;
        }
    }

    @Override
    public TxnLogException failure(Throwable cause) {
        TxnLogException error = new TxnLogException("writing transaction log " + dir + " (" + Segments.fileName(activeSequence)
                + ") failed: " + cause + ". The log refuses all further appends: after a failed write or fsync we cannot know"
                + " what reached the disk, and retrying could acknowledge a decision that is not durable. Restart tm-server"
                + " to recover from what is on disk", cause);
        log.error(error.getMessage(), cause);
        return error;
    }

    /** After the writer thread ended. */
    void close() {
        if (active == null) {
            return;
        }
        try {
            active.close();
        } catch (IOException e) {
            log.warn("transaction log {}: closing the active segment failed: {}", dir, e.toString());
        }
    }

    /** Every data fsync of the log goes through here, recovery's included, so the counters see them all. */
    void force(FileChannel channel) throws IOException {
        long start = System.nanoTime();
        forcer.force(channel);
        fsyncNanos.addAndGet(System.nanoTime() - start);
        fsyncs.incrementAndGet();
    }

    long fsyncs() {
        return fsyncs.get();
    }

    long fsyncNanos() {
        return fsyncNanos.get();
    }

    long checkpoints() {
        return checkpoints.get();
    }

    int liveDecisions() {
        return liveDecisions;
    }

    String activeSegment() {
        return Segments.fileName(activeSequence);
    }

    long activeBytes() {
        return activeBytes;
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
        if (activeBytes >= segmentBytesMax && activeBytes >= 2 * checkpointBytes) {
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
        try {
            previous.close();
        } catch (IOException e) {
            log.warn("transaction log {}: closing the previous segment failed: {}", dir, e.toString());
        }
        checkpoints.incrementAndGet();
        int deleted = deleteSegmentsBefore(next);
        log.debug("transaction log {}: checkpoint {} holds {} live decisions ({} bytes); deleted {} older segment(s)",
                dir, Segments.fileName(next), live.size(), size, deleted);
    }

    /** Oldest first, stopping at the first failure so that no hole appears (recovery refuses one). */
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
}
