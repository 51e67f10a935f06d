package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.BeginAndRegisterTest.rejection;
import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/** Rule 12: what a restarted coordinator rebuilds from its durable records. */
class RestoreTest {
    private static final LogRecord.Decision D1 = new LogRecord.Decision("g1", "n", List.of(branch(1), branch(2)));

    private static Fixture restored(long now, LogRecord... records) {
        Fixture f = new Fixture(Coordinator.restore(Fixture.CONFIG, List.of(records), now));
        f.now = now;
        return f;
    }

    @Test
    void decisionWithoutCompletionResumesCommitOnTheFirstTick() {
        var c = Coordinator.restore(Fixture.CONFIG, List.of(D1), 5_000);
        assertThat(c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        var e = c.step(new Event.Tick(5_000));
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        assertThat(e.logAppends()).isEmpty();
    }

    @Test
    void decisionWithoutCompletionResumesCommitOnAgentConnected() {
        var c = Coordinator.restore(Fixture.CONFIG, List.of(D1), 5_000);
        assertThat(c.step(new Event.AgentConnected("a2")).messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void restoredCommitFinishesWhenEveryBranchAcknowledges() {
        Fixture f = restored(5_000, D1);
        f.tick(5_000);
        f.ack("g1", 1, Action.COMMIT);
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void restoredCommitAnswersARetriedCommitRequestAsCommittedAndRefusesRollback() {
        Fixture f = restored(5_000, D1);
        assertThat(f.commit("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(rejection(f.rollback("g1").replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        // A DecisionDurable still queued from before the crash changes nothing.
        assertThat(f.durable("g1").isEmpty()).isTrue();
    }

    @Test
    void completedTransactionsAreRememberedAsFinished() {
        Fixture f = restored(0, D1, new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.c.liveCount()).isZero();
        assertThat(f.tick(10_000).isEmpty()).isTrue();
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
        assertThat(f.commit("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void undecidedTransactionsAreAbsentAndPresumedAborted() {
        Fixture f = restored(0);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(rejection(f.commit("g1").replies())).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
    }

    @Test
    void duplicatedRecordsAreTolerated() {
        var c = Coordinator.restore(Fixture.CONFIG, List.of(D1, D1, new LogRecord.Completed("g1"), new LogRecord.Completed("g1"),
                new LogRecord.Decision("g2", "n", List.of(branch(3), branch(3))), new LogRecord.Decision("g2", "n", List.of(branch(3)))), 0);
        assertThat(c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(c.status("g2")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(c.step(new Event.Tick(0)).messages()).containsExactly(cmd("g2", 3, Action.COMMIT));
    }

    @Test
    void aDecisionAfterItsCompletionResumesPhaseTwoWhichIsHarmless() {
        // Only "a Decision without a later Completed" counts; committing again is idempotent.
        Fixture f = restored(0, D1, new LogRecord.Completed("g1"), D1);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void completedWithoutItsDecisionIsRememberedAsCommitted() {
        Fixture f = restored(0, new LogRecord.Completed("g9"));
        assertThat(f.c.status("g9")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.inquiry("g9", 1, "a1").messages()).containsExactly(cmd("g9", 1, Action.ROLLBACK));
    }

    @Test
    void decisionWithoutBranchesIsRememberedAsFinished() {
        Fixture f = restored(0, new LogRecord.Decision("g1", "n", List.of()));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void restoredBranchesGoToTheAgentsInTheRecord() {
        var moved = new Branch("b1", "db1", "elsewhere");
        var c = Coordinator.restore(Fixture.CONFIG, List.of(new LogRecord.Decision("g1", "n", List.of(moved))), 0);
        assertThat(c.step(new Event.Tick(0)).messages()).containsExactly(new dev.xatm.core.Outbound("elsewhere", "g1", "b1", Action.COMMIT));
    }

    @Test
    void decisionRecordNamesTheAgentThatInquiredLast() {
        Fixture f = new Fixture();
        f.commitRequested("g1", 2);
        f.vote("g1", 1, dev.xatm.core.Vote.YES);
        f.disconnected(1); // prepared branches survive their agent; a new one finds b1 and inquires
        f.step(new Event.Inquiry("g1", "b1", "db1", "a1-new"));
        var e = f.vote("g1", 2, dev.xatm.core.Vote.YES);
        assertThat(e.logAppends()).containsExactly(
                new LogRecord.Decision("g1", "test", List.of(new Branch("b1", "db1", "a1-new"), branch(2))));
    }

    @Test
    void restoredCoordinatorAcceptsNewTransactions() {
        Fixture f = restored(100, D1);
        assertThat(f.begin("g2", 10_000).replies()).containsExactly(new Reply.Begun("g2", 10_000));
        assertThat(rejection(f.begin("g1").replies())).isEqualTo(ErrorCode.ALREADY_EXISTS);
    }
}
