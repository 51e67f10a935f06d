package dev.xatm.coordinator.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The file store's operator journal: an action recorded before a restart is read back after it (with
 * every field, tabs and newlines in the reason included), a log directory written before the journal
 * existed still opens and has none, a torn last line is skipped, and the segments' records are untouched.
 */
class FileOperatorJournalTest {

    @TempDir
    Path dir;

    @Test
    void anOperatorActionSurvivesARestartWithEveryField() throws Exception {
        OperatorAction forced = new OperatorAction("g-1", 1_765_000_000_123L, "jane doe", "admin", "rollback",
                "FINISHED_ROLLED_BACK: rolled back by operator jane doe", "ticket 42:\tcancelled\nby phone, 100% sure");
        OperatorAction refused = new OperatorAction("g-1", 1_765_000_000_456L, "joe", "admin", "refused-commit", "refused: no decision", null);
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).isEmpty();
            log.append(List.of(decision("g-2")), true).get(10, TimeUnit.SECONDS);
            log.operatorJournal().record(forced);
            log.operatorJournal().record(refused);
            log.operatorJournal().record(new OperatorAction("g-3", 1L, "ann", "admin", "forget", "forgotten", null));
        }
        try (FileTxnLog restarted = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(restarted.open()).containsExactly(decision("g-2"));
            assertThat(restarted.operatorJournal().of("g-1")).containsExactly(forced, refused);
            assertThat(restarted.operatorJournal().of("g-3")).extracting(OperatorAction::operator).containsExactly("ann");
            assertThat(restarted.operatorJournal().of("g-4")).isEmpty();
        }
    }

    @Test
    void aLogWrittenBeforeTheJournalExistedOpensWithNoActions() throws Exception {
        try (FileTxnLog old = new FileTxnLog(dir, BIG_SEGMENTS)) {
            old.open();
            old.append(List.of(decision("g-1")), true).get(10, TimeUnit.SECONDS);
        }
        assertThat(dir.resolve(FileOperatorJournal.FILE_NAME)).doesNotExist();
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            assertThat(log.open()).containsExactly(decision("g-1"));
            assertThat(log.operatorJournal().of("g-1")).isEmpty();
        }
    }

    @Test
    void aTornOrDamagedLineIsSkippedAndLaterOnesStillCount() throws Exception {
        OperatorJournal journal = new FileOperatorJournal(dir);
        journal.record(new OperatorAction("g-1", 1L, "jane", "admin", "rollback", "done", null));
        Path file = dir.resolve(FileOperatorJournal.FILE_NAME);
        String line = Files.readString(file);
        Files.writeString(file, line.replace("jane", "JANE") + line.substring(0, line.length() / 2), StandardOpenOption.TRUNCATE_EXISTING);
        assertThat(journal.of("g-1")).as("a changed line and a torn tail are both dropped").isEmpty();
        Files.writeString(file, "\n", StandardOpenOption.APPEND);
        journal.record(new OperatorAction("g-1", 2L, "joe", "admin", "rollback", "done again", "why not"));
        assertThat(journal.of("g-1")).extracting(OperatorAction::operator).containsExactly("joe");
    }
}
