package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.xatm.coordinator.log.FileTxnLogRecoveryTest.createSegment;
import static dev.xatm.coordinator.log.LogTestSupport.SMALL_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static dev.xatm.coordinator.log.LogTestSupport.liveGtrids;
import static dev.xatm.coordinator.log.LogTestSupport.segment;
import static dev.xatm.coordinator.log.LogTestSupport.segmentBytesOnDisk;
import static dev.xatm.coordinator.log.LogTestSupport.segments;
import static org.assertj.core.api.Assertions.assertThat;

/** Checkpoints: the log stays bounded, live decisions survive, and an interrupted roll loses nothing. */
class CheckpointTest {

    @TempDir
    Path tmp;

    /**
     * 3,000 transactions, each a Decision and (for all but every 50th) a Completed, with completions
     * arriving out of order. Disk use stays bounded the whole time, and a reopened log holds exactly
     * the live Decisions, whose history was compacted away.
     */
    @Test
    void keepsLiveDecisionsDropsCompletedOnesAndBoundsTheSize() throws Exception {
        Path dir = tmp.resolve("data");
        SplittableRandom random = new SplittableRandom(7);
        Set<String> expectedLive = new LinkedHashSet<>();
        List<String> awaitingCompletion = new java.util.ArrayList<>();
        long maxBytes = 0;
        long appendedBytes = 0;
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            log.open();
            for (int i = 0; i < 3000; i++) {
                String gtrid = "g-" + i;
                LogRecord d = decision(gtrid);
                appendedBytes += Segments.frameBytes(RecordCodec.encode(d));
                CompletableFuture<Void> f = log.append(List.of(d), i % 100 == 0);
                expectedLive.add(gtrid);
                if (i % 50 != 0) {
                    awaitingCompletion.add(gtrid);
                }
                if (awaitingCompletion.size() > 20 || i == 2999) {
                    // complete a random one of the pending ones: order of completions differs from decisions
                    while (awaitingCompletion.size() > (i == 2999 ? 0 : 10)) {
                        String done = awaitingCompletion.remove(random.nextInt(awaitingCompletion.size()));
                        log.append(List.of(completed(done)), false);
                        expectedLive.remove(done);
                    }
                }
                f.get(10, TimeUnit.SECONDS);
                maxBytes = Math.max(maxBytes, segmentBytesOnDisk(dir));
            }
            log.append(List.of(), true).get(10, TimeUnit.SECONDS);
            assertThat(log.liveDecisions()).isEqualTo(expectedLive.size());
            assertThat(log.checkpoints()).isGreaterThan(10);
            System.out.printf("compaction: %d bytes appended, at most %d bytes of segments on disk, %d checkpoints, %d fsyncs%n",
                    appendedBytes, maxBytes, log.checkpoints(), log.fsyncs());
        }
        assertThat(expectedLive).hasSize(60);
        // live set: 60 decisions of ~70 bytes, so the checkpoint rule keeps segments near 2 x 4 KiB
        // At most ~80 decisions of ~80 bytes are live at once, so a segment rolls by ~13 KB, and during
        // a roll the new segment (the live set) briefly sits next to the old one: ~20 KB at worst.
        assertThat(maxBytes).isLessThan(24 * 1024);
        assertThat(appendedBytes).isGreaterThan(200 * 1024);
        assertThat(segments(dir)).hasSize(1);
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            List<LogRecord> records = log.open();
            assertThat(liveGtrids(records)).containsExactlyInAnyOrderElementsOf(expectedLive);
            assertThat(records.size()).isLessThan(200);
            assertThat(records).filteredOn(r -> r instanceof LogRecord.Decision)
                    .allMatch(r -> r.equals(decision(r.gtrid())), "decisions come back whole");
        }
    }

    /** The new segment starts with the live Decisions, in decision order, then what came after. */
    @Test
    void aNewSegmentStartsWithTheLiveSetInDecisionOrder() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            log.open();
            log.append(List.of(decision("live-1"), decision("done-1"), decision("live-2")), false);
            log.append(List.of(completed("done-1")), false);
            int i = 0;
            while (log.checkpoints() == 0) {
                log.append(List.of(decision("x-" + i), completed("x-" + i)), false).get(10, TimeUnit.SECONDS);
                i++;
            }
            log.append(List.of(decision("after")), true).get(10, TimeUnit.SECONDS);
        }
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            List<LogRecord> records = log.open();
            // the writer may have taken one more x-* append after the roll; it is completed anyway
            assertThat(LogTestSupport.gtrids(records)).startsWith("live-1", "live-2").endsWith("after");
            assertThat(liveGtrids(records)).containsExactly("live-1", "live-2", "after");
        }
    }

    /**
     * Crash after the new segment was renamed into place but before the old one was deleted: both
     * are read, the live Decisions appear twice (the core tolerates that), none is lost, and the
     * next checkpoint removes the old segment.
     */
    @Test
    void oldAndNewSegmentsTogetherGiveDuplicatesButLoseNothing() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"), decision("g-2"), completed("g-1"));
        createSegment(dir, 2, decision("g-2"), decision("g-3"));
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            List<LogRecord> records = log.open();
            assertThat(LogTestSupport.gtrids(records)).containsExactly("g-1", "g-2", "g-1", "g-2", "g-3");
            assertThat(liveGtrids(records)).containsExactly("g-2", "g-3");
            assertThat(log.liveDecisions()).isEqualTo(2);
            int i = 0;
            while (log.checkpoints() == 0) {
                log.append(List.of(decision("x-" + i), completed("x-" + i)), false).get(10, TimeUnit.SECONDS);
                i++;
            }
        }
        assertThat(segments(dir)).containsExactly(segment(dir, 3));
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            assertThat(LogTestSupport.gtrids(log.open())).startsWith("g-2", "g-3");
        }
    }

    /** Crash while the new segment was still being written: only its .tmp exists, and it is discarded. */
    @Test
    void anUnfinishedSegmentFromAnInterruptedCheckpointIsDiscarded() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"), decision("g-2"));
        Path unfinished = dir.resolve(Segments.fileName(2) + Segments.TMP_SUFFIX);
        Files.write(unfinished, new byte[]{0x58, 0x54, 0x4C});
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            assertThat(LogTestSupport.gtrids(log.open())).containsExactly("g-1", "g-2");
            log.append(List.of(decision("g-3")), true).get(10, TimeUnit.SECONDS);
        }
        assertThat(unfinished).doesNotExist();
        assertThat(segments(dir)).containsExactly(segment(dir, 1));
    }

    /**
     * Many live decisions (a checkpoint bigger than segmentBytesMax) must not make every batch a
     * checkpoint: the segment has to double first, so checkpoints grow rarer as the live set grows.
     */
    @Test
    void aLargeLiveSetDoesNotCauseACheckpointPerBatch() throws Exception {
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), SMALL_SEGMENTS)) {
            log.open();
            for (int i = 0; i < 1000; i++) {
                log.append(List.of(decision("g-" + i)), false).get(10, TimeUnit.SECONDS);
            }
            // ~70 KB of live decisions against a 4 KiB segment limit: rolls at ~4, 8, 16, 32, 64 KiB
            assertThat(log.checkpoints()).isBetween(3L, 8L);
            assertThat(log.liveDecisions()).isEqualTo(1000);
        }
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), SMALL_SEGMENTS)) {
            assertThat(liveGtrids(log.open())).hasSize(1000);
        }
    }

    /**
     * An I/O error in the middle of a checkpoint: syncing the old segment (1st fsync of the roll) or
     * the new one before its rename (2nd). The log fails, and a restart finds every decision that
     * was appended, whatever the roll had done so far.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aFailureDuringACheckpointLeavesEverythingReadable(int failingFsync) throws Exception {
        Path dir = tmp.resolve("data");
        AtomicInteger forcesSinceArmed = new AtomicInteger(-1);
        FileTxnLog.Forcer forcer = channel -> {
            // every append below is unsynced, so once armed, any fsync belongs to a checkpoint
            if (forcesSinceArmed.get() >= 0 && forcesSinceArmed.incrementAndGet() == failingFsync) {
                throw new IOException("injected failure at fsync " + failingFsync + " of the checkpoint");
            }
            channel.force(false);
        };
        List<String> appended = new java.util.ArrayList<>();
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS, forcer)) {
            log.open();
            forcesSinceArmed.set(0);
            for (int i = 0; ; i++) {
                CompletableFuture<Void> f = log.append(List.of(decision("g-" + i)), false);
                if (f.isCompletedExceptionally() || !f.handle((ok, e) -> e == null).get(10, TimeUnit.SECONDS)) {
                    break;
                }
                appended.add("g-" + i);
                assertThat(i).as("a checkpoint should have started by now").isLessThan(1000);
            }
            assertThat(log.checkpoints()).isZero();
        }
        assertThat(appended).hasSizeGreaterThan(10);
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            assertThat(liveGtrids(log.open())).containsAll(appended);
        }
        assertThat(Segments.listUnfinished(dir)).isEmpty();
    }
}
