package dev.xatm.bench.log;

import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.coordinator.log.SegmentAppender;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Benchmark only ({@link FileLogBenchmark}): a log without group commit, the baseline {@link FileTxnLog}
 * is measured against. The calling thread encodes its records, then, under one lock, writes them and
 * fsyncs before it returns: one fsync per sync append, no writer thread, no queue.
 *
 * <p>The bytes on disk are exactly the file log's: tm-coordinator's {@link SegmentAppender} writes the
 * segment header and the frames. {@link FileTxnLog#open()} reads the directory afterwards, which is how
 * the benchmark checks that every decision arrived. Not for production: no recovery, no checkpoints,
 * no failure state.
 *
 * <p>Thread-safe; appends are serialized by the lock, which parks waiters and wakes one at a time.
 */
public final class LockedFsyncLog implements TxnLog {
    private final Path dir;
    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private SegmentAppender segment;

    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();

    public LockedFsyncLog(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** A benchmark log lives for one run: a fresh id unless one is configured. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return configured.orElseGet(ClusterId::generate);
    }

    /** Creates the directory and its first, empty segment; there is nothing to recover in a new directory. */
    @Override
    public List<LogRecord> open() {
        lock.lock();
        try {
            if (segment != null) {
                throw new IllegalStateException("open() may be called once");
            }
            segment = SegmentAppender.createFirst(dir);
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lock.unlock();
        }
    }

    /** Writes (and with {@code sync}, fsyncs) on the caller's thread; the future is already complete. */
    @Override
    public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        SegmentAppender.Frames frames = SegmentAppender.encode(records);
        lock.lock();
        try {
            if (segment == null) {
                throw new IllegalStateException("append before open() or after close()");
            }
            segment.append(frames);
            if (sync) {
                segment.force();
                fsyncs.incrementAndGet();
            }
            recordsWritten.addAndGet(records.size());
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            lock.unlock();
        }
    }

    public long recordsWritten() {
        return recordsWritten.get();
    }

    public long fsyncs() {
        return fsyncs.get();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (segment != null) {
                segment.close();
                segment = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lock.unlock();
        }
    }
}
