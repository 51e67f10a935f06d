package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static dev.xatm.coordinator.log.LogTestSupport.segment;
import static org.assertj.core.api.Assertions.assertThat;

/** Group commit: concurrent sync appends share fsyncs, and nobody hears "durable" before it is. */
class GroupCommitTest {
    private static final int APPENDS = 50;

    @TempDir
    Path tmp;

    /**
     * The first append's fsync is held; 49 more arrive from 49 threads meanwhile. Then: exactly two
     * fsyncs (the held one, then one for all 49), no future completed while its fsync was pending,
     * and at each completion the durable part of the file already covered that append's frame.
     */
    @Test
    void concurrentSyncAppendsShareOneFsyncAndCompleteOnlyWhenDurable() throws Exception {
        GatedForcer forcer = new GatedForcer();
        Map<String, Long> durableAtCompletion = new ConcurrentHashMap<>();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(APPENDS - 1);
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS, forcer)) {
            log.open();
            long fsyncsAtStart = log.fsyncs();

            forcer.holdNext(null);
            try {
                CompletableFuture<Void> first = log.append(List.of(decision("g-0")), true);
                forcer.awaitHeld();
                futures.add(first);

                CountDownLatch start = new CountDownLatch(1);
                List<Future<CompletableFuture<Void>>> submitted = new ArrayList<>();
                for (int i = 1; i < APPENDS; i++) {
                    String gtrid = "g-" + i;
                    submitted.add(pool.submit(() -> {
                        start.await();
                        return log.append(List.of(decision(gtrid)), true);
                    }));
                }
                start.countDown();
                for (Future<CompletableFuture<Void>> f : submitted) {
                    futures.add(f.get(10, TimeUnit.SECONDS));
                }
                // every append() has returned; the writer is still inside the first fsync
                assertThat(futures).noneMatch(CompletableFuture::isDone);
                for (int i = 0; i < APPENDS; i++) {
                    String gtrid = "g-" + i;
                    futures.get(i).whenComplete((ok, error) -> durableAtCompletion.put(gtrid, forcer.durableBytes()));
                }

                forcer.release();
                CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

                long fsyncs = log.fsyncs() - fsyncsAtStart;
                System.out.printf("group commit (held first fsync): %d sync appends, %d fsyncs%n", APPENDS, fsyncs);
                assertThat(fsyncs).isEqualTo(2);
                assertThat(log.recordsWritten()).isEqualTo(APPENDS);
            } finally {
                forcer.release(); // a failed assertion must not leave close() waiting for the held fsync
            }
        } finally {
            pool.shutdownNow();
        }
        Map<String, Long> frameEnds = frameEnds(segment(tmp.resolve("data"), 1));
        assertThat(frameEnds).hasSize(APPENDS);
        frameEnds.forEach((gtrid, end) ->
                assertThat(durableAtCompletion.get(gtrid)).as("durable bytes when %s completed", gtrid).isGreaterThanOrEqualTo(end));
    }

    /**
     * Without any holding: 50 threads append at once on the real disk. Everything completes and
     * is readable afterwards; fsyncs never exceed appends (the counts are printed for the record).
     */
    @Test
    void freeRunningConcurrentSyncAppends() throws Exception {
        Path dir = tmp.resolve("data");
        ExecutorService pool = Executors.newFixedThreadPool(APPENDS);
        long fsyncs;
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            log.open();
            long fsyncsAtStart = log.fsyncs();
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < APPENDS; i++) {
                String gtrid = "g-" + i;
                done.add(pool.submit(() -> {
                    start.await();
                    log.append(List.of(decision(gtrid)), true).get(10, TimeUnit.SECONDS);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(20, TimeUnit.SECONDS);
            }
            fsyncs = log.fsyncs() - fsyncsAtStart;
            System.out.printf("group commit (free running): %d sync appends from %d threads, %d fsyncs%n", APPENDS, APPENDS, fsyncs);
        } finally {
            pool.shutdownNow();
        }
        assertThat(fsyncs).isBetween(1L, (long) APPENDS);
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).hasSize(APPENDS);
        }
    }

    /** Appends without sync cost no fsync of their own; a later sync append covers them. */
    @Test
    void unsyncedAppendsAreCoveredByTheNextSync() throws Exception {
        GatedForcer forcer = new GatedForcer();
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS, forcer)) {
            log.open();
            long before = log.fsyncs();
            for (int i = 0; i < 20; i++) {
                log.append(List.of(decision("n-" + i)), false).get(10, TimeUnit.SECONDS);
            }
            assertThat(log.fsyncs()).isEqualTo(before);
            long written = Files.size(segment(tmp.resolve("data"), 1));
            log.append(List.of(decision("s-1")), true).get(10, TimeUnit.SECONDS);
            assertThat(log.fsyncs()).isEqualTo(before + 1);
            assertThat(forcer.durableBytes()).isGreaterThan(written);
            // a sync append with nothing new to write does not fsync again
            log.append(List.of(), true).get(10, TimeUnit.SECONDS);
            assertThat(log.fsyncs()).isEqualTo(before + 1);
        }
    }

    /** Where each gtrid's frame ends in a segment file: the byte the fsync had to cover. */
    private static Map<String, Long> frameEnds(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file));
        Map<String, Long> ends = new ConcurrentHashMap<>();
        int position = Segments.HEADER_BYTES;
        while (position < b.limit()) {
            int length = b.getInt(position);
            byte[] payload = new byte[length];
            b.get(position + Segments.FRAME_HEADER_BYTES, payload);
            LogRecord r = RecordCodec.decode(payload);
            position += Segments.FRAME_HEADER_BYTES + length;
            ends.put(r.gtrid(), (long) position);
        }
        return ends;
    }
}
