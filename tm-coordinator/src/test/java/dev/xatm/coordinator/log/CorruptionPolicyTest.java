package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.FileTxnLogRecoveryTest.createSegment;
import static dev.xatm.coordinator.log.FileTxnLogRecoveryTest.flipByte;
import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static dev.xatm.coordinator.log.LogTestSupport.frameOffsets;
import static dev.xatm.coordinator.log.LogTestSupport.gtrids;
import static dev.xatm.coordinator.log.LogTestSupport.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which damage recovery may cut on its own: only a torn tail (nothing intact after the damage, and no
 * later segment). Damage with intact records after it may hide acknowledged COMMIT decisions, so it
 * stops start-up unless the operator set {@code tm.server.file.truncate-corrupt}, and then every
 * dropped record is logged at ERROR.
 */
class CorruptionPolicyTest {
    private static final List<LogRecord> FIVE = List.of(
            decision("g-1"), decision("g-2"), completed("g-1"), decision("g-3"), completed("g-2"));

    @TempDir
    Path tmp;

    private Path writeFive() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            log.open();
            for (LogRecord r : FIVE) {
                log.append(List.of(r), true).get(10, TimeUnit.SECONDS);
            }
        }
        return dir;
    }

    /** A flipped payload byte in the second record, with an acknowledged COMMIT of g-3 after it: start refused, nothing changed. */
    @Test
    void damageInTheMiddleWithIntactCommitDecisionsAfterItRefusesToStart() throws Exception {
        Path dir = writeFive();
        List<Long> frames = frameOffsets(segment(dir, 1));
        flipByte(segment(dir, 1), frames.get(1) + Segments.FRAME_HEADER_BYTES + 1);
        byte[] before = Files.readAllBytes(segment(dir, 1));

        FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS);
        assertThatThrownBy(log::open)
                .isInstanceOfSatisfying(LogCorruptedException.class, e -> {
                    assertThat(e.file()).isEqualTo(segment(dir, 1));
                    assertThat(e.offset()).isEqualTo(frames.get(1));
                })
                .hasMessageContaining("txn-0000000000000001.log")
                .hasMessageContaining("at byte offset " + frames.get(1))
                .hasMessageContaining("CRC32C mismatch")
                .hasMessageContaining("3 intact record(s) follow the damage in this segment, the first at byte offset " + frames.get(2))
                .hasMessageContaining("COMMIT decision g-3")
                .hasMessageContaining("tm.server.file.truncate-corrupt=true");
        assertThat(Files.readAllBytes(segment(dir, 1))).as("refusing changes nothing on disk").isEqualTo(before);
        assertThatThrownBy(() -> log.append(List.of(decision("g-4")), true)).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Damage to a length field leaves no length to follow to the next frame; the byte-by-byte search
     * still finds the intact records after it, so this is not mistaken for a torn tail.
     */
    @Test
    void aDamagedLengthFieldDoesNotHideTheIntactRecordsAfterIt() throws Exception {
        Path dir = writeFive();
        List<Long> frames = frameOffsets(segment(dir, 1));
        flipByte(segment(dir, 1), frames.get(1)); // most significant byte of the length: far out of range

        assertThatThrownBy(() -> new FileTxnLog(dir, BIG_SEGMENTS).open())
                .isInstanceOf(LogCorruptedException.class)
                .hasMessageContaining("frame length")
                .hasMessageContaining("3 intact record(s) follow the damage")
                .hasMessageContaining("COMMIT decision g-3");
    }

    /** A torn tail, even a long run of random garbage, is still cut without asking, and the log starts and takes appends. */
    @Test
    void aTornTailOfRandomGarbageIsCutAndStartSucceeds() throws Exception {
        Path dir = writeFive();
        long size = Files.size(segment(dir, 1));
        byte[] garbage = new byte[256 * 1024];
        new SplittableRandom(19).nextBytes(garbage);
        // a half-written copy of a real frame first, as a torn append leaves it
        byte[] lastFrame = java.util.Arrays.copyOfRange(Files.readAllBytes(segment(dir, 1)), frameOffsets(segment(dir, 1)).get(4).intValue(), (int) size);
        Files.write(segment(dir, 1), java.util.Arrays.copyOf(lastFrame, lastFrame.length / 2), StandardOpenOption.APPEND);
        Files.write(segment(dir, 1), garbage, StandardOpenOption.APPEND);

        try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
             FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).containsExactlyElementsOf(FIVE);
            assertThat(capture.warnings()).singleElement().asString()
                    .contains("dropped " + (lastFrame.length / 2 + garbage.length) + " bytes")
                    .contains("torn by a crash");
            assertThat(Files.size(segment(dir, 1))).isEqualTo(size);
            log.append(List.of(decision("g-9")), true).get(10, TimeUnit.SECONDS);
        }
    }

    /** With the operator's flag the damage is cut, and the ERROR line says how many records went and which decisions. */
    @Test
    void theOperatorFlagCutsAnywayAndLogsEveryDroppedRecordAtError() throws Exception {
        Path dir = writeFive();
        List<Long> frames = frameOffsets(segment(dir, 1));
        flipByte(segment(dir, 1), frames.get(1) + Segments.FRAME_HEADER_BYTES + 1);

        try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
             FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS.withTruncateCorrupt(true))) {
            assertThat(log.open()).containsExactly(decision("g-1"));
            assertThat(capture.errors()).singleElement().asString()
                    .contains("tm.server.file.truncate-corrupt=true")
                    .contains("at offset " + frames.get(1))
                    .contains("3 intact record(s) after the damage")
                    .contains("COMMIT decisions dropped (their transactions are presumed aborted unless a later record repeats them): g-3")
                    .contains("Dropped records: Completed g-1, COMMIT decision g-3, Completed g-2");
            assertThat(Files.size(segment(dir, 1))).isEqualTo(frames.get(1));
            log.append(List.of(decision("g-9")), true).get(10, TimeUnit.SECONDS);
        }
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(gtrids(log.open())).as("the next start needs no flag").containsExactly("g-1", "g-9");
        }
    }

    /**
     * A torn tail in a segment that a later one follows is corruption too (a segment is synced before
     * its successor exists); with the flag it is cut and the later segment is kept.
     */
    @Test
    void damageAtTheEndOfAnOlderSegmentNeedsTheFlagAndKeepsTheLaterSegment() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"), decision("g-2"));
        createSegment(dir, 2, decision("g-2"), decision("g-3"));
        long second = frameOffsets(segment(dir, 1)).get(1);
        flipByte(segment(dir, 1), second + Segments.FRAME_HEADER_BYTES + 1);

        assertThatThrownBy(() -> new FileTxnLog(dir, BIG_SEGMENTS).open())
                .isInstanceOf(LogCorruptedException.class)
                .hasMessageContaining("not the newest segment")
                .hasMessageContaining("1 later segment(s) follow it (txn-0000000000000002.log)")
                .hasMessageContaining("tm.server.file.truncate-corrupt=true");

        try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
             FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS.withTruncateCorrupt(true))) {
            assertThat(gtrids(log.open())).containsExactly("g-1", "g-2", "g-3");
            assertThat(capture.errors()).singleElement().asString()
                    .contains("0 intact record(s) after the damage (1 later segment(s) are kept)")
                    .contains("COMMIT decisions dropped (their transactions are presumed aborted unless a later record repeats them): none");
        }
    }

    /** A bad header is not something the flag cuts: the whole segment is in doubt. */
    @Test
    void theFlagDoesNotCoverABadHeader() throws Exception {
        Path dir = writeFive();
        flipByte(segment(dir, 1), 0);
        assertThatThrownBy(() -> new FileTxnLog(dir, BIG_SEGMENTS.withTruncateCorrupt(true)).open())
                .isInstanceOf(LogCorruptedException.class).hasMessageContaining("bad magic");
    }
}
