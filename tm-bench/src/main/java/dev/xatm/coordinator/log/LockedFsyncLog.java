package dev.xatm.coordinator.log;

import dev.xatm.protocol.ClusterId;
import dev.xatm.core.LogRecord;

import java.util.Optional;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Benchmark only (tm-bench, dev.xatm.bench.log.FileLogBenchmark): a log without group commit, the
 * baseline {@link FileTxnLog} is measured against. The calling thread encodes its records, then,
 * under one lock, writes them and fsyncs before it returns: one fsync per sync append, no writer
 * thread, no queue.
 *
 * <p>It sits in {@code dev.xatm.coordinator.log} (same package, other jar) only to reuse the package-private
 * {@link RecordCodec} and {@link Segments}, so the bytes on disk are exactly the file log's: a segment
 * header from {@link Segments#create}, then one frame per record. {@link FileTxnLog#open()} reads the
 * directory afterwards, which is how the benchmark checks that every decision arrived. Not for
 * production: no recovery, no checkpoints, no failure state.
 *
 * <p>Thread-safe; appends are serialized by the lock, which parks waiters and wakes one at a time.
 */
public final class LockedFsyncLog implements TxnLog {
    private final Path dir;
    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private FileChannel channel;
    private ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();

    public LockedFsyncLog(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** Creates the directory and its first, empty segment; there is nothing to recover in a new directory. */
    /** A benchmark log lives for one run: a fresh id unless one is configured. */
    @Override
    public ClusterId clusterId(Optional<ClusterId> configured) {
        return configured.orElseGet(ClusterId::generate);
    }

    @Override
    public List<LogRecord> open() {
        lock.lock();
        try {
            if (channel != null) {
                throw new IllegalStateException("open() may be called once");
            }
            Files.createDirectories(dir);
            if (!Segments.list(dir).isEmpty()) {
                throw new IllegalStateException(dir + " already holds a log; the baseline only starts new ones");
            }
            long size = Segments.create(dir, 1, List.of(), FileTxnLog.FSYNC);
            channel = FileChannel.open(dir.resolve(Segments.fileName(1)), StandardOpenOption.WRITE);
            channel.position(size);
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
        List<byte[]> payloads = new ArrayList<>(records.size());
        int bytes = 0;
        for (LogRecord r : records) {
            byte[] payload = RecordCodec.encode(r);
            payloads.add(payload);
            bytes += Segments.frameBytes(payload);
        }
        lock.lock();
        try {
            if (channel == null) {
                throw new IllegalStateException("append before open() or after close()");
            }
            if (buffer.capacity() < bytes) {
                buffer = ByteBuffer.allocate(bytes);
            }
            buffer.clear();
            for (byte[] p : payloads) {
                Segments.putFrame(buffer, p);
            }
            Segments.writeFully(channel, buffer.flip());
            if (sync) {
                channel.force(false);
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
            if (channel != null) {
                channel.force(false);
                channel.close();
                channel = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lock.unlock();
        }
    }
}
