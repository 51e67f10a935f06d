package dev.xatm.bench.measure;

import dev.xatm.bench.Workload.Order;
import dev.xatm.bench.variant.Variant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop load: {@code threads} client threads, each running one order after the other
 * through the variant, for a warm-up whose length the caller decides ({@link Window#warmUp()}, e.g.
 * until the JIT has settled) and then a measured window of fixed length. A transaction counts in
 * the window when it committed inside it. Randomness is seeded per thread.
 */
public final class LoadDriver {

    public interface Window {
        /** Returns when the warm-up is over; the load runs meanwhile. */
        void warmUp() throws Exception;

        void started() throws Exception;

        void ended() throws Exception;
    }

    public record Result(long committedInWindow, long committedTotal, long errorsInWindow, long errorsTotal,
                         long[] sortedLatencyNanos, Map<String, Long> errorKinds, boolean allStopped) {

        public double percentileMillis(double q) {
            if (sortedLatencyNanos.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.ceil(q * sortedLatencyNanos.length) - 1;
            return sortedLatencyNanos[Math.max(0, Math.min(sortedLatencyNanos.length - 1, i))] / 1e6;
        }

        public double meanMillis() {
            return sortedLatencyNanos.length == 0 ? Double.NaN
                    : Arrays.stream(sortedLatencyNanos).average().orElse(0) / 1e6;
        }
    }

    /** The measured window in System.nanoTime(); unknown (MAX) until the warm-up ends. */
    private static final class Bounds {
        volatile long start = Long.MAX_VALUE;
        volatile long end = Long.MAX_VALUE;
    }

    private LoadDriver() {
    }

    /**
     * {@code ids} hands out the order ids; a run that measures several thread counts one after the
     * other shares it, so the ids stay unique across them for the consistency check.
     */
    public static Result run(Variant variant, int threads, long measureMillis, long seed, AtomicLong ids, Window window)
            throws Exception {
        // Workers stay alive after the window until its closing snapshot is taken: /proc only lists
        // the threads that still exist, and the per-thread CPU split needs the client threads in it.
        CountDownLatch released = new CountDownLatch(1);
        Bounds bounds = new Bounds();
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Worker w = new Worker(variant, new SplittableRandom(seed + i), ids, bounds, released);
            w.setName("bench-client-" + i);
            workers.add(w);
        }
        workers.forEach(Thread::start);
        long end;
        try {
            window.warmUp();
            long start = System.nanoTime();
            end = start + TimeUnit.MILLISECONDS.toNanos(measureMillis);
            bounds.end = end; // end first: a worker that sees the new start already sees the window's end
            bounds.start = start;
            window.started();
        } catch (Exception | Error e) {
            bounds.end = System.nanoTime(); // stop the workers before giving up
            released.countDown();
            throw e;
        }
        sleepUntil(end);
        try {
            window.ended();
        } finally {
            released.countDown();
        }
        boolean allStopped = true;
        long joinDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        for (Worker w : workers) {
            w.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
            allStopped &= !w.isAlive();
        }
        long inWindow = 0;
        long total = 0;
        long errWindow = 0;
        long errTotal = 0;
        int n = 0;
        Map<String, Long> kinds = new TreeMap<>();
        for (Worker w : workers) {
            inWindow += w.committedInWindow;
            total += w.committedTotal;
            errWindow += w.errorsInWindow;
            errTotal += w.errorsTotal;
            n += w.latencyCount;
            w.errorKinds.forEach((k, v) -> kinds.merge(k, v, Long::sum));
        }
        long[] all = new long[n];
        int at = 0;
        for (Worker w : workers) {
            System.arraycopy(w.latencies, 0, all, at, w.latencyCount);
            at += w.latencyCount;
        }
        Arrays.sort(all);
        return new Result(inWindow, total, errWindow, errTotal, all, kinds, allStopped);
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Counters are thread-confined and read after join(). */
    private static final class Worker extends Thread {
        private final Variant variant;
        private final SplittableRandom random;
        private final AtomicLong ids;
        private final Bounds bounds;
        private final CountDownLatch released;
        long committedInWindow;
        long committedTotal;
        long errorsInWindow;
        long errorsTotal;
        long[] latencies = new long[4096];
        int latencyCount;
        final Map<String, Long> errorKinds = new TreeMap<>();

        Worker(Variant variant, SplittableRandom random, AtomicLong ids, Bounds bounds, CountDownLatch released) {
            this.variant = variant;
            this.random = random;
            this.ids = ids;
            this.bounds = bounds;
            this.released = released;
        }

        @Override
        public void run() {
            while (true) {
                long t0 = System.nanoTime();
                if (t0 >= bounds.end) {
                    awaitRelease();
                    return;
                }
                Order order = Order.next(ids.incrementAndGet(), random);
                try {
                    variant.execute(order);
                    long t1 = System.nanoTime();
                    committedTotal++;
                    if (inWindow(t1)) {
                        committedInWindow++;
                        if (latencyCount == latencies.length) {
                            latencies = Arrays.copyOf(latencies, latencyCount * 2);
                        }
                        latencies[latencyCount++] = t1 - t0;
                    }
                } catch (Throwable e) {
                    long t1 = System.nanoTime();
                    errorsTotal++;
                    if (inWindow(t1)) {
                        errorsInWindow++;
                    }
                    errorKinds.merge(describe(e), 1L, Long::sum);
                }
            }
        }

        private boolean inWindow(long t) {
            long start = bounds.start;
            return t >= start && t < bounds.end;
        }

        private void awaitRelease() {
            try {
                released.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static String describe(Throwable e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String msg = root.getMessage() == null ? "" : root.getMessage();
            msg = msg.replaceAll("\\d+", "N"); // group "product 17 ..." with "product 42 ..."
            if (msg.length() > 160) {
                msg = msg.substring(0, 160) + "...";
            }
            return root.getClass().getSimpleName() + ": " + msg;
        }
    }
}
