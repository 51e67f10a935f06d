package dev.xatm.coordinator.log;

import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Directory handling, the lock, open/close rules, and the failed state after an I/O error. */
class FileTxnLogLifecycleTest {

    @TempDir
    Path tmp;

    @Test
    void createsAMissingDirectoryWithParents() throws Exception {
        Path dir = tmp.resolve("a/b/tm-data");
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).isEmpty();
            log.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);
        }
        assertThat(dir.resolve("txn-0000000000000001.log")).isRegularFile();
    }

    @Test
    void aFileWhereTheDirectoryShouldBeFailsClearly() throws Exception {
        Path file = Files.writeString(tmp.resolve("tm-data"), "x");
        assertThatThrownBy(() -> new FileTxnLog(file, BIG_SEGMENTS).open())
                .isInstanceOf(TxnLogException.class)
                .hasMessageContaining("tm-data directory " + file.toAbsolutePath() + " exists but is not a directory");
        assertThatThrownBy(() -> new FileTxnLog(file.resolve("below"), BIG_SEGMENTS).open())
                .isInstanceOf(TxnLogException.class)
                .hasMessageContaining("cannot create tm-data directory");
    }

    @Test
    void anUnwritableDirectoryFailsClearly() throws Exception {
        assumeThat(System.getProperty("user.name")).as("root may write anywhere").isNotEqualTo("root");
        Path dir = Files.createDirectory(tmp.resolve("readonly"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assertThatThrownBy(() -> new FileTxnLog(dir, BIG_SEGMENTS).open())
                    .isInstanceOf(TxnLogException.class)
                    .hasMessageContaining("is not writable");
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** Two coordinators on one log would compact away each other's decisions: the second must not start. */
    @Test
    void secondOpenOfTheSameDirectoryFailsUntilTheFirstCloses() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog first = new FileTxnLog(dir, BIG_SEGMENTS)) {
            first.open();
            first.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);
            FileTxnLog second = new FileTxnLog(dir, BIG_SEGMENTS);
            assertThatThrownBy(second::open)
                    .isInstanceOf(TxnLogException.class)
                    .hasMessageContaining("tm-data directory " + dir.toAbsolutePath() + " is in use by another tm-server")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
            second.close();
            // the failed attempt did not disturb the owner
            first.append(List.of(completed("g-1")), true).get(10, TimeUnit.SECONDS);
        }
        try (FileTxnLog third = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(third.open()).containsExactly(decision("g-1"), completed("g-1"));
        }
    }

    @Test
    void appendBeforeOpenOrAfterCloseIsAnIllegalState() throws Exception {
        FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS);
        assertThatThrownBy(() -> log.append(List.of(decision("g-1")), true))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("before open()");
        log.open();
        log.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);
        log.close();
        assertThatThrownBy(() -> log.append(List.of(decision("g-2")), true))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(log::open).isInstanceOf(IllegalStateException.class);
        log.close(); // idempotent
    }

    /** close() stops the writer thread; it is a named, non-daemon thread while the log is open. */
    @Test
    void closeStopsTheWriterThread() throws Exception {
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS)) {
            log.open();
            assertThat(writerThreads()).singleElement().satisfies(t -> assertThat(t.isDaemon()).isFalse());
        }
        assertThat(writerThreads()).isEmpty();
    }

    /** A record too large for the log fails its own append, not the log. */
    @Test
    void anOversizedRecordIsRejectedWithoutFailingTheLog() throws Exception {
        List<Branch> branches = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            branches.add(new Branch("b" + i, "r".repeat(128), "a".repeat(128)));
        }
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS)) {
            log.open();
            assertThatThrownBy(() -> log.append(List.of(new LogRecord.Decision("g-big", null, branches)), true))
                    .isInstanceOf(IllegalArgumentException.class);
            log.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * PostgreSQL's fsync lesson: a failed fsync is never retried and never reported as success. The
     * appends in the failing batch and those queued behind it fail; every later append fails at
     * once; close still works and releases the directory.
     */
    @Test
    void aFailedFsyncFailsTheBatchAndEveryLaterAppend() throws Exception {
        Path dir = tmp.resolve("data");
        GatedForcer forcer = new GatedForcer();
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS, forcer)) {
            log.open();
            log.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);

            forcer.holdNext(new IOException("EIO from the disk"));
            CompletableFuture<Void> failing = log.append(List.of(decision("g-2")), true);
            forcer.awaitHeld();
            CompletableFuture<Void> queuedBehind = log.append(List.of(decision("g-3")), true);
            long callsBefore = forcer.calls();
            forcer.release();

            for (CompletableFuture<Void> f : List.of(failing, queuedBehind)) {
                assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(TxnLogException.class)
                        .hasMessageContaining("refuses all further appends")
                        .hasRootCauseMessage("EIO from the disk");
            }
            CompletableFuture<Void> later = log.append(List.of(decision("g-4")), true);
            assertThat(later).isCompletedExceptionally();
            assertThatThrownBy(later::join).cause().isInstanceOf(TxnLogException.class)
                    .hasMessageContaining("failed earlier");
            assertThat(forcer.calls()).as("no retried fsync").isEqualTo(callsBefore);
        }
        // a restart reads what is on disk; g-1 was acknowledged and must be there
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(LogTestSupport.gtrids(log.open())).startsWith("g-1").doesNotContain("g-3", "g-4");
        }
    }

    private static List<Thread> writerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("tm-log-writer") && t.isAlive())
                .toList();
    }
}
