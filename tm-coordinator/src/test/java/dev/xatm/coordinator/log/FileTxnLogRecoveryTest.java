package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static dev.xatm.coordinator.log.LogTestSupport.frameOffsets;
import static dev.xatm.coordinator.log.LogTestSupport.segment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** open(): reading back what was written, and what recovery does with each kind of damage. */
class FileTxnLogRecoveryTest {

    @TempDir
    Path tmp;

    private static final List<LogRecord> FIVE = List.of(
            decision("g-1"), decision("g-2"), completed("g-1"), decision("g-3"), completed("g-2"));

    /** Writes FIVE (one sync append per record) into a fresh log in {@code dir} and closes it. */
    private static void writeFive(Path dir) throws Exception {
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).isEmpty();
            for (LogRecord r : FIVE) {
                log.append(List.of(r), true).get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static List<LogRecord> reopen(Path dir) {
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            return log.open();
        }
    }

    @Test
    void recordsComeBackInAppendOrder() throws Exception {
        Path dir = tmp.resolve("data");
        writeFive(dir);
        assertThat(reopen(dir)).containsExactlyElementsOf(FIVE);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()))
                .containsExactlyInAnyOrder("txn-0000000000000001.log", DirectoryLock.FILE_NAME);
    }

    /** Several records in one append, with and without sync, and appends across reopenings. */
    @Test
    void batchedAndUnsyncedAppendsSurviveACleanClose() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            log.open();
            log.append(List.of(decision("a-1"), decision("a-2")), false);
            log.append(List.of(completed("a-1")), false);
            // no wait: close() must still write and fsync what it accepted
        }
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).containsExactly(decision("a-1"), decision("a-2"), completed("a-1"));
            log.append(List.of(completed("a-2")), true).get(10, TimeUnit.SECONDS);
            assertThat(log.recordsWritten()).isEqualTo(1);
        }
        assertThat(reopen(dir)).containsExactly(decision("a-1"), decision("a-2"), completed("a-1"), completed("a-2"));
    }

    /**
     * A crash can stop an append after any byte. For every length the last record could have been
     * cut to, recovery keeps the four before it, logs one WARN with the number of bytes dropped
     * (none when the cut falls exactly between records), and the log takes new appends after them.
     */
    @Test
    void tailTornAtEveryByteOfTheLastRecordIsDropped() throws Exception {
        Path pristine = tmp.resolve("pristine");
        writeFive(pristine);
        Path file = segment(pristine, 1);
        long lastStart = frameOffsets(file).get(4);
        long end = Files.size(file);
        assertThat(end - lastStart).isGreaterThan(8);

        for (long cut = lastStart; cut < end; cut++) {
            Path dir = tmp.resolve("cut-" + cut);
            LogTestSupport.copyDirectory(pristine, dir);
            try (FileChannel ch = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
                 FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
                assertThat(log.open()).as("cut at %d", cut).containsExactlyElementsOf(FIVE.subList(0, 4));
                if (cut == lastStart) {
                    assertThat(capture.warnings()).isEmpty();
                } else {
                    assertThat(capture.warnings()).singleElement().asString()
                            .contains("dropped " + (cut - lastStart) + " bytes")
                            .contains("offset " + lastStart)
                            .doesNotContain("intact record");
                }
                assertThat(Files.size(segment(dir, 1))).isEqualTo(lastStart);
                log.append(List.of(decision("g-9")), true).get(10, TimeUnit.SECONDS);
            }
            List<LogRecord> expected = new ArrayList<>(FIVE.subList(0, 4));
            expected.add(decision("g-9"));
            assertThat(reopen(dir)).as("cut at %d, reopened", cut).containsExactlyElementsOf(expected);
        }
    }

    /** A flipped byte anywhere in the last record (length, CRC or payload) drops that record only. */
    @Test
    void corruptByteInTheLastRecordDropsIt() throws Exception {
        Path pristine = tmp.resolve("pristine");
        writeFive(pristine);
        long lastStart = frameOffsets(segment(pristine, 1)).get(4);
        long end = Files.size(segment(pristine, 1));

        for (long at = lastStart; at < end; at++) {
            Path dir = tmp.resolve("flip-" + at);
            LogTestSupport.copyDirectory(pristine, dir);
            flipByte(segment(dir, 1), at);
            try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
                 FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
                assertThat(log.open()).as("flip at %d", at).containsExactlyElementsOf(FIVE.subList(0, 4));
                assertThat(capture.warnings()).singleElement().asString().contains("dropped " + (end - lastStart) + " bytes");
                log.append(List.of(decision("g-9")), true).get(10, TimeUnit.SECONDS);
            }
            assertThat(gtridsOf(reopen(dir))).endsWith("g-3", "g-9");
        }
    }

    /** Garbage after the last good record (e.g. a preallocated or half-written block) is cut off. */
    @Test
    void garbageAfterTheLastRecordIsDropped() throws Exception {
        Path dir = tmp.resolve("data");
        writeFive(dir);
        long size = Files.size(segment(dir, 1));
        Files.write(segment(dir, 1), new byte[4096], StandardOpenOption.APPEND);
        try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture()) {
            assertThat(reopen(dir)).containsExactlyElementsOf(FIVE);
            assertThat(capture.warnings()).singleElement().asString().contains("dropped 4096 bytes").contains("frame length 0");
        }
        assertThat(Files.size(segment(dir, 1))).isEqualTo(size);
    }

    /**
     * An older segment was complete and fsynced before its successor existed: damage there is not a
     * crash artefact. open() must fail, name the file and the offset, and change nothing on disk.
     */
    @Test
    void corruptByteInAnOlderSegmentFailsWithFileAndOffset() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"), decision("g-2"), completed("g-1"));
        createSegment(dir, 2, decision("g-2"), decision("g-3"));
        long bad = frameOffsets(segment(dir, 1)).get(1);
        flipByte(segment(dir, 1), bad + Segments.FRAME_HEADER_BYTES + 2);
        byte[] before = Files.readAllBytes(segment(dir, 1));

        FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS);
        assertThatThrownBy(log::open)
                .isInstanceOfSatisfying(LogCorruptedException.class, e -> {
                    assertThat(e.file()).isEqualTo(segment(dir, 1));
                    assertThat(e.offset()).isEqualTo(bad);
                })
                .hasMessageContaining("txn-0000000000000001.log")
                .hasMessageContaining("at byte offset " + bad)
                .hasMessageContaining("CRC32C mismatch")
                .hasMessageContaining("not the newest segment");
        assertThat(Files.readAllBytes(segment(dir, 1))).isEqualTo(before);
        assertThatThrownBy(() -> log.append(List.of(decision("g-4")), true)).isInstanceOf(IllegalStateException.class);
        // the failed open released the directory: a fixed log can be opened by the next attempt
        Files.delete(segment(dir, 1));
        assertThat(gtridsOf(reopen(dir))).containsExactly("g-2", "g-3");
    }

    /** A torn tail in an older segment is corruption as well (a checkpoint fsyncs before it rolls). */
    @Test
    void truncatedOlderSegmentFails() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"), decision("g-2"));
        createSegment(dir, 2, decision("g-1"), decision("g-2"));
        try (FileChannel ch = FileChannel.open(segment(dir, 1), StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 1);
        }
        assertThatThrownBy(() -> reopen(dir)).isInstanceOf(LogCorruptedException.class).hasMessageContaining("cut short");
    }

    /** Headers are synced before a segment gets its name, so a bad header is never a torn write. */
    @Test
    void badHeaderFailsEvenInTheNewestSegment() throws Exception {
        Path dir = tmp.resolve("data");
        writeFive(dir);
        flipByte(segment(dir, 1), 0);
        assertThatThrownBy(() -> reopen(dir)).isInstanceOf(LogCorruptedException.class).hasMessageContaining("bad magic");

        Path renamed = tmp.resolve("renamed");
        writeFive(renamed);
        Files.move(segment(renamed, 1), segment(renamed, 7));
        assertThatThrownBy(() -> reopen(renamed)).isInstanceOf(LogCorruptedException.class)
                .hasMessageContaining("header says segment 1 but the file name says 7");
    }

    @Test
    void missingSegmentInTheMiddleFails() throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        createSegment(dir, 1, decision("g-1"));
        createSegment(dir, 3, decision("g-1"));
        assertThatThrownBy(() -> reopen(dir)).isInstanceOf(TxnLogException.class)
                .hasMessageContaining("missing segment(s) between txn-0000000000000001.log and txn-0000000000000003.log");
    }

    /** Files that are not segments (lock, auth token, an editor's backup) are left alone. */
    @Test
    void foreignFilesInTheDirectoryAreIgnored() throws Exception {
        Path dir = tmp.resolve("data");
        writeFive(dir);
        Files.writeString(dir.resolve("auth-token"), "secret");
        Files.writeString(dir.resolve("txn-1.log"), "not ours");
        assertThat(reopen(dir)).containsExactlyElementsOf(FIVE);
        assertThat(dir.resolve("auth-token")).hasContent("secret");
    }

    static void createSegment(Path dir, long sequence, LogRecord... records) throws IOException {
        List<byte[]> payloads = new ArrayList<>();
        for (LogRecord r : records) {
            payloads.add(RecordCodec.encode(r));
        }
        Segments.create(dir, sequence, payloads, FileTxnLog.FSYNC);
    }

    static void flipByte(Path file, long at) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) at] ^= 0x5A;
        Files.write(file, bytes);
    }

    private static List<String> gtridsOf(List<LogRecord> records) {
        return LogTestSupport.gtrids(records);
    }
}
