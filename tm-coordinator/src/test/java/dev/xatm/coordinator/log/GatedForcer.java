package dev.xatm.coordinator.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real fsync that a test can hold at its next call (to let appends pile up behind it) and make
 * fail. It also remembers how many bytes of the file the last completed fsync covered, which is
 * what "durable as far as observable" means for the tests.
 */
final class GatedForcer implements FileTxnLog.Forcer {
    private final AtomicLong durableBytes = new AtomicLong();
    private final AtomicLong calls = new AtomicLong();
    private volatile CountDownLatch entered;
    private volatile CountDownLatch release;
    private volatile IOException failWith;

    /** The next force() blocks until {@link #release()} and then throws {@code failure} if not null. */
    void holdNext(IOException failure) {
        failWith = failure;
        entered = new CountDownLatch(1);
        release = new CountDownLatch(1);
    }

    void awaitHeld() throws InterruptedException {
        if (!entered.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("no fsync was attempted");
        }
    }

    void release() {
        release.countDown();
    }

    long durableBytes() {
        return durableBytes.get();
    }

    long calls() {
        return calls.get();
    }

    @Override
    public void force(FileChannel channel) throws IOException {
        calls.incrementAndGet();
        CountDownLatch in = entered;
        CountDownLatch out = release;
        if (in != null && in.getCount() > 0) {
            in.countDown();
            try {
                if (!out.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("test never released the held fsync");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            IOException failure = failWith;
            failWith = null;
            if (failure != null) {
                throw failure;
            }
        }
        long size = channel.size();
        channel.force(false);
        durableBytes.accumulateAndGet(size, Math::max);
    }
}
