package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.TxnDetail;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.BeginAndRegisterTest.rejection;
import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * 3PC after a coordinator restart (each combination of PRE_COMMIT, Aborted, Decision and Completed
 * records), inquiries from agents that hold a branch prepared, and agents that go away. The rule a
 * restored PRE_COMMIT follows: never presume abort (a participant may have committed on its own),
 * resend PRE_COMMIT, no answer deadline, and decide only once every branch answered.
 */
class ThreePhaseRecoveryTest {
    private static final long PARTICIPANT_PRE_COMMIT = 3_000;
    private static final LogRecord.PreCommit P1 = new LogRecord.PreCommit("g1", "n", List.of(branch(1), branch(2)));
    private static final LogRecord.Decision D1 = new LogRecord.Decision("g1", "n", List.of(branch(1), branch(2)));

    private static Fixture restored(LogRecord... records) {
        Fixture f = new Fixture(Coordinator.restore(Fixture.THREE_PHASE, List.of(records), 5_000));
        f.now = 5_000;
        f.connected(1);
        f.connected(2);
        f.connected(3);
        return f;
    }

    // ---- restore ----

    @Test
    void aPreCommitRecordAloneIsRestoredInPreCommitAndResendsPreCommitToEveryBranch() {
        var c = Coordinator.restore(Fixture.THREE_PHASE, List.of(P1), 5_000);
        assertThat(c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        var e = c.step(new dev.xatm.core.Event.Tick(5_000));
        assertThat(e.messages()).containsExactly(
                cmd("g1", 1, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT), cmd("g1", 2, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
        assertThat(e.logAppends()).isEmpty();
        assertThat(c.views().detail("g1", 0).orElseThrow().summary().restored()).isTrue();
    }

    @Test
    void aRestoredPreCommitHasNoAnswerDeadline() {
        Fixture f = restored(P1);
        var e = f.tick(10_000_000);
        assertThat(e.replies()).isEmpty();
        assertThat(e.messages()).extracting(m -> m.action()).containsOnly(Action.PRE_COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void aRestoredPreCommitCommitsWhenEveryBranchAnswersYes() {
        Fixture f = restored(P1);
        assertThat(f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT).isEmpty()).isTrue();
        assertThat(f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT).logAppends()).containsExactly(new LogRecord.Decision("g1", "n",
                List.of(branch(1), branch(2))));
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void aRestoredPreCommitWaitsForEveryAnswerBeforeAbortingOnANo() {
        Fixture f = restored(P1);
        var no = f.vote("g1", 1, Vote.NO, Action.PRE_COMMIT);
        assertThat(no.isEmpty()).isTrue(); // b2 may have committed on its own: its answer must be heard first
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        var e = f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void anAutonomousCommitTurnsARestoredPreCommitIntoACommit() {
        Fixture f = restored(P1);
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        var e = f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Decision("g1", "n", List.of(branch(1), branch(2))));
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void aNoThenAnAutonomousCommitAbortsWithThatBranchHeuristic() {
        Fixture f = restored(P1);
        f.vote("g1", 2, Vote.NO, Action.PRE_COMMIT);
        var e = f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        // the abort (durable before anyone hears of it), and the heuristic branch it leaves, for a restart
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"), new LogRecord.Heuristics("g1", "n",
                dev.xatm.core.Outcome.ROLLED_BACK, List.of(new LogRecord.BranchHeuristic(branch(1), AckResult.HEURISTIC_COMMIT))));
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
        assertThat(branchView(f, "b1").heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        f.ack("g1", 2, Action.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK); // until the Aborted record is durable
        f.durable("g1");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.heldCount()).isEqualTo(1);
    }

    @Test
    void anAutonomousCommitThenANoAbortsWithThatBranchHeuristic() {
        Fixture f = restored(P1);
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        f.vote("g1", 2, Vote.NO, Action.PRE_COMMIT);
        assertThat(branchView(f, "b1").heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void preCommitAndAbortedResumeTheRollback() {
        var c = Coordinator.restore(Fixture.THREE_PHASE, List.of(P1, new LogRecord.Aborted("g1")), 5_000);
        assertThat(c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        assertThat(c.step(new dev.xatm.core.Event.Tick(5_000)).messages())
                .containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        Fixture f = restored(P1, new LogRecord.Aborted("g1"));
        f.ack("g1", 1, Action.ROLLBACK);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        // Remembered now: a retried commit hears the outcome.
        assertThat(f.commit("g1").replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void preCommitAndDecisionResumeTheCommitAsThreePhase() {
        var c = Coordinator.restore(Fixture.THREE_PHASE, List.of(P1, D1), 5_000);
        assertThat(c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(c.step(new dev.xatm.core.Event.Tick(5_000)).messages())
                .containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        Fixture f = restored(P1, D1);
        TxnDetail d = f.c.views().detail("g1", 0).orElseThrow();
        assertThat(d.summary().protocol()).isEqualTo("3PC");
        assertThat(d.summary().phase()).isEqualTo("DO_COMMIT");
        assertThat(restored(D1).c.views().detail("g1", 0).orElseThrow().summary().protocol()).isEqualTo("2PC");
    }

    @Test
    void aClosedThreePhaseRollbackLeavesNothingBehind() {
        Fixture f = restored(P1, new LogRecord.Aborted("g1"), new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(f.c.liveCount()).isZero();
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
    }

    @Test
    void aClosedThreePhaseCommitIsRememberedAsCommitted() {
        Fixture f = restored(P1, D1, new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void duplicatedPreCommitRecordsAreTolerated() {
        Fixture f = restored(P1, P1, new LogRecord.PreCommit("g1", "n", List.of(branch(1))));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        assertThat(f.c.views().detail("g1", 0).orElseThrow().branches()).hasSize(2);
    }

    @Test
    void aRestoredPreCommitRefusesTheClientsRollbackAndAStaleDurableChangesNothing() {
        Fixture f = restored(P1);
        assertThat(rejection(f.rollback("g1").replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        assertThat(f.commit("g1").isEmpty()).isTrue(); // the answer comes with the decision
        assertThat(f.durable("g1").isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void aRestoredPreCommitIsInDoubtWhileItWaitsPastTheThreshold() {
        Fixture f = restored(P1);
        f.tick(6_000);
        assertThat(f.c.views().inDoubt(500, 10)).singleElement().satisfies(t ->
                assertThat(t.reasons()).extracting(InDoubtReason::kind).contains(InDoubtReason.Kind.OUTCOME_NOT_APPLIED));
        assertThat(f.c.views().inDoubt(5_000, 10)).isEmpty();
    }

    // ---- inquiries ----

    @Test
    void anInquiryFromTheHoldingAgentCountsAsItsPreCommitYes() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitSent("g1");
        f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        var e = f.inquiry("g1", 1, "a1"); // b1 prepared, its YES was lost; its agent found it by XA RECOVER
        assertThat(e.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(2))));
        assertThat(e.messages()).isEmpty(); // COMMIT only once the decision is durable
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void anInquiryFromAnotherAgentWhileTheHolderIsConnectedIsNoAnswer() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitSent("g1");
        f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(f.inquiry("g1", 1, "a1-new").isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void anInquiryInCanCommitIsNoAnswer() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.canCommitAsked("g1");
        assertThat(f.inquiry("g1", 1, "a1").isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ASKING_CAN_COMMIT);
    }

    @Test
    void anInquiryCountsAsYesInARestoredPreCommitToo() {
        Fixture f = restored(P1);
        f.inquiry("g1", 1, "a1");
        assertThat(f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT).logAppends()).hasSize(1).first()
                .isInstanceOf(LogRecord.Decision.class);
    }

    // ---- agents that go away ----

    @Test
    void losingAnAgentInCanCommitAborts() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT); // willing, but not prepared: its branch dies with the agent
        var e = f.disconnected(1);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK)); // nothing goes to a gone agent
        assertThat(e.logAppends()).isEmpty();
    }

    @Test
    void losingAnAgentWhileThePreCommitRecordIsWrittenAbortsAndLogsIt() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitAppended("g1");
        var e = f.disconnected(2);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        f.durable("g1"); // the PRE_COMMIT record
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void losingTheAgentOfABranchPendingPreCommitAborts() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitSent("g1");
        var e = f.disconnected(1);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    /**
     * Why the Aborted record must be durable before anyone hears ROLLED_BACK. b2's agent vanishes after
     * its branch prepared (its YES died with the stream), so the coordinator aborts; the ROLLBACK to b1
     * dies with a coordinator crash, and so does the Aborted record if it was only written lazily. The
     * restarted coordinator finds the PRE_COMMIT record alone, asks again, and both branches, prepared,
     * answer YES: it commits. A client told ROLLED_BACK before the crash would have been told wrong.
     */
    @Test
    void theRollbackIsAnnouncedOnlyOnceTheAbortedRecordIsDurable() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitSent("g1");
        var abort = f.disconnected(2);
        assertThat(abort.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(abort.mustSync()).isTrue();
        assertThat(abort.replies()).isEmpty();
        assertThat(f.commit("g1").isEmpty()).isTrue(); // a retried request waits as well

        // What a crash now would leave: the PRE_COMMIT record alone. The restarted coordinator commits.
        Fixture after = restored(P1);
        after.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        assertThat(after.inquiry("g1", 2, "a2").logAppends()).containsExactly(D1);

        // Without the crash: the Aborted record becomes durable, and only now is the rollback announced.
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(f.commit("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        var last = f.ack("g1", 1, Action.ROLLBACK);
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
    }

    @Test
    void losingTheAgentOfAPreparedBranchOnlyWaits() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        assertThat(f.disconnected(1).isEmpty()).isTrue(); // prepared survives its agent
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void losingAnAgentInARestoredPreCommitOnlyNotesIt() {
        Fixture f = restored(P1);
        assertThat(f.disconnected(1).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        assertThat(f.c.views().detail("g1", 0).orElseThrow().history()).extracting(h -> h.kind()).contains(Kind.AGENT_GONE);
        // It gets PRE_COMMIT again when it comes back, and its answer still decides.
        assertThat(f.connected(1).messages()).containsExactly(cmd("g1", 1, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT));
    }

    private static BranchView branchView(Fixture f, String bqual) {
        return f.c.views().detail("g1", 0).orElseThrow().branches().stream()
                .filter(b -> b.bqual().equals(bqual)).findFirst().orElseThrow();
    }
}
