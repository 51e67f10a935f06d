package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The group commit both stores share: the lifecycle (new, open, failed, closed), the bounded queue of
 * appends, the one writer thread ({@code tm-log-writer}) that takes everything queued as one batch,
 * and the failure rule. What a batch becomes on the store is its {@link BatchWriter}'s: frames, one
 * write and one fsync for the file log; one fenced multi-row upsert for the JDBC log.
 *
 * <p><b>Threads.</b> {@link #append} may be called from any thread: it only queues, and waits for room
 * only while the queue is full (at most {@link Settings#stallTimeout()}). The writer thread alone calls
 * the batch writer, and completes the futures of a batch after the batch writer returned, in append
 * order; callbacks attached without an executor therefore run on the writer thread and must be short.
 * The writer is a normal (non-daemon) thread: {@link #close()} lets it write everything accepted
 * before the close.
 *
 * <p><b>One failure rule.</b> When the batch writer throws (an I/O error it will not retry, a fenced
 * node, a bug), every append of that batch and every append still queued fails with the same
 * {@link TxnLogException}, and the log refuses all later appends: an open log becomes failed; a log
 * already closed stays closed. Nothing is ever acknowledged after a write we did not understand.
 */
final class GroupCommitWriter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);

    /**
     * Where a store puts a batch. Called on the writer thread only, one call at a time, so an
     * implementation needs no locks for the state it keeps between batches.
     */
    interface BatchWriter {
        /**
         * Makes the batch durable as far as its appends asked ({@link Append#sync()}); retries, if the
         * store retries at all, happen in here. Throwing fails the batch and the log.
         */
        void write(List<Append> batch) throws Exception;

        /** After a batch was acknowledged, or after an idle wait (when {@link Settings#idleWakeMillis()} is set). */
        default void afterBatch() throws Exception {
        }

        /** Once, on a clean close, after the last batch. */
        default void drained() throws Exception {
        }

        /**
         * The log is closing: called once by {@link GroupCommitWriter#close()} on the closing thread,
         * while a batch may still be in {@link #write}. A writer that retries gives up sooner then.
         */
        default void closing() {
        }

        /** The exception every waiting append fails with; the place to log the failure once. */
        TxnLogException failure(Throwable cause);
    }

    /**
     * One append as handed over: its records, their encodings (null where the store needs none),
     * and its size in bytes on the store (0 where that does not bound a batch).
     */
    record Append(List<LogRecord> records, List<byte[]> payloads, int bytes, boolean sync, CompletableFuture<Void> future,
                  long handedOverNanos) {}

    /**
     * @param name              how messages name the log ("transaction log /var/tm-data")
     * @param pendingAppendsMax appends queued before {@link #append} waits for room
     * @param stallTimeout      how long {@link #append} waits for room before it fails
     * @param stallMeans        what such a stall says about the store, for the message ("the disk does not ...")
     * @param batchAppendsMax   appends in one batch at most
     * @param batchBytesMax     {@link Append#bytes()} of one batch at most (a single larger append goes alone)
     * @param idleWakeMillis    an idle writer still calls {@link BatchWriter#afterBatch()} this often; 0: never
     * @param closeWaitMillis   how long {@link #close()} waits for the writer before interrupting it
     */
    record Settings(String name, int pendingAppendsMax, Duration stallTimeout, String stallMeans, int batchAppendsMax,
                    long batchBytesMax, long idleWakeMillis, long closeWaitMillis) {
        Settings {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(stallMeans, "stallMeans");
            if (pendingAppendsMax < 1 || batchAppendsMax < 1 || batchBytesMax < 1 || idleWakeMillis < 0 || closeWaitMillis < 1) {
                throw new IllegalArgumentException("bad group-commit settings: " + pendingAppendsMax + ", " + batchAppendsMax + ", "
                        + batchBytesMax + ", " + idleWakeMillis + ", " + closeWaitMillis);
            }
            if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
                throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
            }
        }
    }

    private enum State { NEW, OPEN, FAILED, CLOSED }

    private final Settings settings;
    private final BatchWriter batchWriter;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition workOrClose = lock.newCondition();
    private final Condition roomInQueue = lock.newCondition();
    // guarded by lock
    private final ArrayDeque<Append> queue = new ArrayDeque<>();
    private State state = State.NEW;
    private boolean opened;
    private TxnLogException failure;
    private Thread writer;

    /** Hand-over time of the oldest append in the batch being written; 0 while none is. */
    private volatile long inFlightSinceNanos;
    // Cumulative, for metrics: a scrape reads them without any cost on the write path but an add.
    private final AtomicLong recordsWritten = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong appends = new AtomicLong();
    private final AtomicLong appendNanos = new AtomicLong();

    GroupCommitWriter(Settings settings, BatchWriter batchWriter) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.batchWriter = Objects.requireNonNull(batchWriter, "batchWriter");
    }

    /**
     * Runs {@code recovery} (the store's own start-up) and then starts the writer, all under the lock,
     * so an append racing with the open waits and then sees the outcome. A recovery that throws
     * leaves the log closed.
     */
    <T> T open(Supplier<T> recovery) {
        lock.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("open() may be called once; the " + settings.name() + " is " + state);
            }
            T result;
            try {
                result = recovery.get();
            } catch (RuntimeException | Error e) {
                state = State.CLOSED;
                throw e;
            }
            writer = new Thread(this::writeLoop, "tm-log-writer");
            writer.setDaemon(false);
            state = State.OPEN;
            opened = true;
            writer.start();
            return result;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues one append; its future completes once the batch writer wrote it.
     *
     * @throws IllegalStateException before {@link #open} or after {@link #close()}
     * @throws TxnLogException       the queue stayed full for the stall timeout
     */
    CompletableFuture<Void> append(List<LogRecord> records, List<byte[]> payloads, int bytes, boolean sync) {
        Append append = new Append(records, payloads, bytes, sync, new CompletableFuture<>(), System.nanoTime());
        long waitNanos = settings.stallTimeout().toNanos();
        lock.lock();
        try {
            while (true) {
                switch (state) {
                    case NEW -> throw new IllegalStateException("append before open() on the " + settings.name());
                    case CLOSED -> throw new IllegalStateException("the " + settings.name() + " is closed");
                    case FAILED -> {
                        return CompletableFuture.failedFuture(new TxnLogException(
                                "the " + settings.name() + " failed earlier and refuses appends until tm-server restarts", failure));
                    }
                    case OPEN -> { }
                }
                // The writer itself may append from a completion callback; waiting there for room
                // that only it can make would deadlock, so it may overfill the queue.
                if (queue.size() < settings.pendingAppendsMax() || Thread.currentThread() == writer) {
                    break;
                }
                // Bounded, because the caller is the coordinator's loop thread: a store that has not
                // taken a batch for this long is stuck, not slow, and the coordinator must hear it.
                if (waitNanos <= 0) {
                    throw new TxnLogException("the " + settings.name() + " has had " + settings.pendingAppendsMax() + " appends queued for "
                            + settings.stallTimeout().toMillis() + " ms (tm.server.log.stall-timeout) without the writer taking any: "
                            + settings.stallMeans());
                }
                try {
                    waitNanos = roomInQueue.awaitNanos(waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TxnLogException("interrupted while waiting for room in the queue of the " + settings.name()
                            + " (" + settings.pendingAppendsMax() + " appends pending)", e);
                }
            }
            queue.add(append);
            workOrClose.signal();
        } finally {
            lock.unlock();
        }
        return append.future();
    }

    /**
     * The batch being written is older than anything queued (batches leave the queue in order), so
     * the oldest waiting append is its first one, or else the queue's head. A hung write shows here
     * as an age that keeps growing.
     */
    OptionalLong oldestPendingSince() {
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

    /** Whether {@link #open} succeeded once (the store then holds resources to release). */
    boolean wasOpened() {
        lock.lock();
        try {
            return opened;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops accepting appends and waits for the writer to write what was accepted before (at most
     * {@link Settings#closeWaitMillis()}, then it is interrupted). False when the log was closed
     * already. Not from a completion callback on the writer thread: that would wait for itself.
     */
    boolean close() {
        Thread w;
        lock.lock();
        try {
            if (state == State.CLOSED) {
                return false;
            }
            if (Thread.currentThread() == writer) {
                throw new IllegalStateException("close() called from a completion callback on the log's writer thread would deadlock;"
                        + " close the " + settings.name() + " from another thread");
            }
            state = State.CLOSED;
            workOrClose.signalAll();
            roomInQueue.signalAll();
            w = writer;
        } finally {
            lock.unlock();
        }
        batchWriter.closing();
        if (w != null) {
            join(w);
        }
        return true;
    }

    private void join(Thread w) {
        boolean interrupted = false;
        long start = System.nanoTime();
        long waitNanos = TimeUnit.MILLISECONDS.toNanos(settings.closeWaitMillis()); // saturates, never overflows
        while (w.isAlive()) {
            long left = waitNanos - (System.nanoTime() - start);
            if (left <= 0) {
                log.warn("{}: the writer did not finish the last writes within {} ms; closing without them",
                        settings.name(), settings.closeWaitMillis());
                w.interrupt();
                break;
            }
            try {
                w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    long recordsWritten() {
        return recordsWritten.get();
    }

    long batches() {
        return batches.get();
    }

    long appends() {
        return appends.get();
    }

    long appendNanos() {
        return appendNanos.get();
    }

    // ---- the writer thread ----

    private void writeLoop() {
        List<Append> batch = List.of();
        try {
            while ((batch = takeBatch()) != null) {
                if (!batch.isEmpty()) {
                    batchWriter.write(batch);
                    acknowledge(batch);
                }
                inFlightSinceNanos = 0;
                batch = List.of();
                batchWriter.afterBatch();
            }
            batchWriter.drained();
        } catch (Throwable t) {
            // an I/O error, a fenced node, or a bug: either way no append may be acknowledged any more
            fail(t, batch);
            if (t instanceof Error e) {
                throw e;
            }
        }
    }

    /** Everything queued (within the batch bounds); empty after an idle wait; null once closed and drained. */
    private List<Append> takeBatch() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty() && state == State.OPEN) {
                if (settings.idleWakeMillis() == 0) {
                    workOrClose.await();
                } else if (!workOrClose.await(settings.idleWakeMillis(), TimeUnit.MILLISECONDS) && queue.isEmpty()) {
                    return List.of();
                }
            }
            if (queue.isEmpty()) {
                return null;
            }
            List<Append> batch = new ArrayList<>(Math.min(queue.size(), settings.batchAppendsMax()));
            long bytes = 0;
            while (!queue.isEmpty() && batch.size() < settings.batchAppendsMax()
                    && (batch.isEmpty() || bytes + queue.peek().bytes() <= settings.batchBytesMax())) {
                Append a = queue.poll();
                batch.add(a);
                bytes += a.bytes();
            }
            inFlightSinceNanos = batch.get(0).handedOverNanos();
            roomInQueue.signalAll();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void acknowledge(List<Append> batch) {
        long writtenNanos = System.nanoTime();
        long waited = 0;
        int records = 0;
        for (Append a : batch) {
            waited += writtenNanos - a.handedOverNanos();
            records += a.records().size();
        }
        recordsWritten.addAndGet(records);
        appendNanos.addAndGet(waited);
        appends.addAndGet(batch.size());
        batches.incrementAndGet();
        for (Append a : batch) {
            // completion callbacks (the coordinator's DecisionDurable) log under the transaction's gtrid
            try (XidMdc.Scope mdc = XidMdc.put(commonGtrid(a.records()))) {
                if (log.isDebugEnabled()) {
                    log.debug("{} record(s) written{}", a.records().size(), a.sync() ? " and synced" : "");
                }
                a.future().complete(null);
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

    private void fail(Throwable cause, List<Append> batch) {
        TxnLogException error;
        try {
            error = batchWriter.failure(cause);
        } catch (RuntimeException e) {
            error = new TxnLogException("the " + settings.name() + " failed: " + cause, cause);
        }
        List<Append> abandoned = new ArrayList<>(batch);
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
        for (Append a : abandoned) {
            a.future().completeExceptionally(error);
        }
    }
}
