package dev.xatm.coordinator.log;

import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.LogRecord;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.commit.Coordinator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.SMALL_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * 3PC's records in the file log: a PRE_COMMIT record must survive a restart and a checkpoint, because
 * a restarted coordinator that does not find it would presume abort while a participant may commit on
 * its own. A later Decision replaces it in the live set; an Aborted (or Completed) ends it.
 */
class ThreePhaseRecordsRecoveryTest {

    @TempDir
    Path tmp;

    private static LogRecord.PreCommit preCommit(String gtrid) {
        return new LogRecord.PreCommit(gtrid, "order-" + gtrid, List.of(
                new Branch("b1", "orders-db", "agent-1"),
                new Branch("b2", "stock-db", "agent-2")));
    }

    @Test
    void aPreCommitRecordSurvivesARestart() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            log.open();
            log.append(List.of(preCommit("g-1")), true).get(10, TimeUnit.SECONDS);
            assertThat(log.liveDecisions()).isEqualTo(1); // kept live like a decision
            log.append(List.of(preCommit("g-2")), true).get(10, TimeUnit.SECONDS);
            log.append(List.of(new LogRecord.Aborted("g-2")), false);
        }
        try (FileTxnLog log = new FileTxnLog(dir, BIG_SEGMENTS)) {
            List<LogRecord> records = log.open();
            assertThat(records).containsExactly(preCommit("g-1"), preCommit("g-2"), new LogRecord.Aborted("g-2"));
            assertThat(log.liveDecisions()).isEqualTo(1);
            Coordinator c = Coordinator.restore(CoordinatorConfig.defaults(), records, 0);
            assertThat(c.status("g-1")).isEqualTo(TxnStatus.PRE_COMMITTING);
            assertThat(c.status("g-2")).isEqualTo(TxnStatus.ROLLING_BACK);
        }
    }

    @Test
    void aPreCommitRecordSurvivesACheckpointAndWhatEndedItDoesNot() throws Exception {
        Path dir = tmp.resolve("data");
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            log.open();
            log.append(List.of(preCommit("undecided")), true).get(10, TimeUnit.SECONDS);
            log.append(List.of(preCommit("decided"), decision("decided")), true).get(10, TimeUnit.SECONDS);
            log.append(List.of(preCommit("aborted"), new LogRecord.Aborted("aborted")), true).get(10, TimeUnit.SECONDS);
            log.append(List.of(preCommit("closed"), new LogRecord.Aborted("closed"), completed("closed")), true)
                    .get(10, TimeUnit.SECONDS);
            int i = 0;
            while (log.checkpoints() == 0) {
                log.append(List.of(decision("x-" + i), completed("x-" + i)), false).get(10, TimeUnit.SECONDS);
                i++;
            }
            log.append(List.of(), true).get(10, TimeUnit.SECONDS);
            assertThat(log.liveDecisions()).isEqualTo(2);
        }
        try (FileTxnLog log = new FileTxnLog(dir, SMALL_SEGMENTS)) {
            List<LogRecord> records = log.open();
            // The new segment starts with the live set: the PRE_COMMIT still open, and the Decision that replaced one.
            assertThat(records.subList(0, 2)).containsExactly(preCommit("undecided"), decision("decided"));
            assertThat(records).extracting(LogRecord::gtrid).doesNotContain("aborted", "closed");
            Coordinator c = Coordinator.restore(CoordinatorConfig.defaults(), records, 0);
            assertThat(c.status("undecided")).isEqualTo(TxnStatus.PRE_COMMITTING); // re-asked, never presumed aborted
            assertThat(c.status("decided")).isEqualTo(TxnStatus.COMMITTING);
            // Dropped with its Aborted record: presumed abort, which is what its branches were told anyway.
            assertThat(c.status("aborted")).isEqualTo(TxnStatus.UNKNOWN);
        }
    }
}
