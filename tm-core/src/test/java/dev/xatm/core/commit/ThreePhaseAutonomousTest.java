package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.InDoubtTxn;
import dev.xatm.core.view.TxnDetail;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A 3PC participant's report that it decided its branch on its own when its timer ran out
 * ({@code AckReceived(autonomous = true)}), in every state of the transaction: a ROLLBACK after a
 * YES to CAN_COMMIT aborts an undecided transaction; a COMMIT after acknowledging PRE_COMMIT counts
 * as a prepared and committed branch; a COMMIT while (or after) the transaction rolls back is 3PC's
 * partition hazard and is recorded as a heuristic commit, held for an operator.
 */
class ThreePhaseAutonomousTest {
    private final Fixture f = new Fixture(Fixture.THREE_PHASE);

    // ---- an autonomous ROLLBACK before the decision aborts ----

    @Test
    void anAutonomousRollbackInCanCommitAborts() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        var e = f.decidedOnItsOwn("g1", 1, Action.ROLLBACK);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).contains(cmd("g1", 2, Action.ROLLBACK));
        assertThat(branchView("g1", "b1").phase()).isEqualTo("ROLLED_BACK"); // its report is its rollback's ack
        assertThat(branchView("g1", "b1").decidedOnItsOwn()).isEqualTo(Action.ROLLBACK);
        assertThat(kinds("g1")).contains(Kind.PARTICIPANT_DECIDED);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void anAutonomousRollbackWhileThePreCommitRecordIsWrittenAbortsAndLogsIt() {
        f.preCommitAppended("g1");
        var e = f.decidedOnItsOwn("g1", 2, Action.ROLLBACK);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(e.replies()).isEmpty();
        assertThat(e.messages()).contains(cmd("g1", 1, Action.ROLLBACK));
        assertThat(f.durable("g1").isEmpty()).isTrue(); // the PRE_COMMIT record's completion must not send PRE_COMMIT now
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK)); // the Aborted one
    }

    @Test
    void anAutonomousRollbackOfABranchPendingPreCommitAborts() {
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        var e = f.decidedOnItsOwn("g1", 2, Action.ROLLBACK); // PRE_COMMIT never reached b2 in time
        assertThat(e.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(e.messages()).contains(cmd("g1", 1, Action.ROLLBACK));
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        var last = f.ack("g1", 1, Action.ROLLBACK);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void anAutonomousRollbackWhileRollingBackIsItsAck() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        f.vote("g1", 2, Vote.NO, Action.CAN_COMMIT);
        f.ack("g1", 2, Action.ROLLBACK);
        var e = f.decidedOnItsOwn("g1", 1, Action.ROLLBACK);
        assertThat(e.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
        assertThat(branchView("g1", "b1").decidedOnItsOwn()).isEqualTo(Action.ROLLBACK);
    }

    // ---- an autonomous COMMIT of a prepared branch ----

    @Test
    void anAutonomousCommitInPreCommitCountsAsAPreparedAndCommittedBranch() {
        f.preCommitSent("g1");
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        BranchView b1 = branchView("g1", "b1");
        assertThat(b1.phase()).isEqualTo("COMMITTED");
        assertThat(b1.vote()).isEqualTo(Vote.YES);
        assertThat(b1.decidedOnItsOwn()).isEqualTo(Action.COMMIT);
        assertThat(b1.pending()).isNull();

        var decided = f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(decided.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(2))));
        var durable = f.durable("g1");
        assertThat(durable.messages()).containsExactly(cmd("g1", 2, Action.COMMIT)); // b1 is done already
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void whenEveryParticipantCommittedOnItsOwnTheDurableDecisionFinishesAtOnce() {
        f.preCommitSent("g1");
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        var decided = f.decidedOnItsOwn("g1", 2, Action.COMMIT);
        assertThat(decided.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(2))));
        var durable = f.durable("g1");
        assertThat(durable.messages()).isEmpty();
        assertThat(durable.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(durable.replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void aDuplicateAutonomousCommitIsIgnored() {
        f.preCommitSent("g1");
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void anAutonomousCommitThenANoToPreCommitIsAHeuristicCommitHeldForAnOperator() {
        f.preCommitSent("g1");
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        var e = f.vote("g1", 2, Vote.NO, Action.PRE_COMMIT);
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK)); // b1 cannot be undone
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(branchView("g1", "b1").heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.heldCount()).isEqualTo(1);
        assertThat(inDoubtKinds("g1")).containsExactly(InDoubtReason.Kind.HEURISTIC);
    }

    @Test
    void anAutonomousCommitWhileTheDecisionIsWrittenIsNotSentCommitAgain() {
        f.preCommitAcked("g1");
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void anAutonomousCommitWhileCommittingIsItsAck() {
        f.preCommitAcked("g1");
        f.durable("g1");
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 2, Action.COMMIT)); // no resend to b1
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(branchView("g1", "b1").decidedOnItsOwn()).isEqualTo(Action.COMMIT);
    }

    @Test
    void anAutonomousRollbackWhileCommittingIsAHeuristicRollback() {
        f.preCommitAcked("g1");
        f.durable("g1");
        f.decidedOnItsOwn("g1", 1, Action.ROLLBACK);
        assertThat(branchView("g1", "b1").heuristic()).isEqualTo(AckResult.HEURISTIC_ROLLBACK);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
    }

    @Test
    void anAutonomousCommitBeforeAnythingIsPreparedIsIgnored() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ASKING_CAN_COMMIT);
        f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    // ---- 3PC's partition hazard made visible ----

    @Test
    void anAutonomousCommitWhileRollingBackIsRecordedAsAHeuristicCommit() {
        f.preCommitSent("g1");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        f.tick(700); // b2's answer is missing: abort
        f.durable("g1");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        f.ack("g1", 2, Action.ROLLBACK);
        var e = f.decidedOnItsOwn("g1", 1, Action.COMMIT); // the ROLLBACK never reached b1 before its timer ran out
        assertThat(e.replies()).containsExactly(new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.heldCount()).isEqualTo(1);
        BranchView b1 = branchView("g1", "b1");
        assertThat(b1.heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        assertThat(b1.decidedOnItsOwn()).isEqualTo(Action.COMMIT);
        assertThat(inDoubtKinds("g1")).containsExactly(InDoubtReason.Kind.HEURISTIC);
        assertThat(detail("g1").history()).filteredOn(h -> h.kind() == Kind.PARTICIPANT_DECIDED)
                .singleElement().satisfies(h -> {
                    assertThat(h.bqual()).isEqualTo("b1");
                    assertThat(h.detail()).contains("partition hazard");
                });
        var forgot = f.forget("g1");
        assertThat(forgot.replies()).singleElement().isInstanceOf(Reply.Resolved.class);
        // The PRE_COMMIT record is closed, or every restart would bring it back as a rollback to drive.
        assertThat(forgot.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(f.c.heldCount()).isZero();
    }

    @Test
    void anAutonomousCommitReportedAfterTheRollbackFinishedHoldsItAsAHeuristic() {
        f.preCommitSent("g1");
        f.vote("g1", 2, Vote.NO, Action.PRE_COMMIT);
        f.durable("g1");
        f.ack("g1", 2, Action.ROLLBACK);
        f.disconnected(1); // b1's agent is gone: the rollback does not wait for it
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        f.connected(1);
        var e = f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.heldCount()).isEqualTo(1);
        assertThat(branchView("g1", "b1").heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        assertThat(branchView("g1", "b1").decidedOnItsOwn()).isEqualTo(Action.COMMIT);
        assertThat(kinds("g1")).contains(Kind.PARTICIPANT_DECIDED, Kind.HEURISTIC);
        assertThat(inDoubtKinds("g1")).containsExactly(InDoubtReason.Kind.HEURISTIC);
    }

    @Test
    void anAutonomousCommitOfAFinishedCommitAgreesAndChangesNothing() {
        f.preCommitAcked("g1");
        f.durable("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.decidedOnItsOwn("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void anAutonomousCommitOfAnUnknownTransactionIsRefusedNotDropped() {
        var e = f.decidedOnItsOwn("ghost", 1, Action.COMMIT);
        var r = (Reply.Rejected) e.replies().get(0);
        assertThat(r.request()).isEqualTo(RequestKind.ACK);
        assertThat(r.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(r.message()).contains("committed on its own");
        // A rollback of an unknown one agrees with presumed abort: nothing to say.
        assertThat(f.decidedOnItsOwn("ghost", 1, Action.ROLLBACK).isEmpty()).isTrue();
    }

    // ---- helpers ----

    private TxnDetail detail(String gtrid) {
        return f.c.views().detail(gtrid, Long.MAX_VALUE).orElseThrow();
    }

    private BranchView branchView(String gtrid, String bqual) {
        return detail(gtrid).branches().stream().filter(b -> b.bqual().equals(bqual)).findFirst().orElseThrow();
    }

    private List<Kind> kinds(String gtrid) {
        return detail(gtrid).history().stream().map(HistoryEntry::kind).toList();
    }

    private List<InDoubtReason.Kind> inDoubtKinds(String gtrid) {
        return f.c.views().inDoubt(Long.MAX_VALUE, 10).stream().filter(t -> t.summary().gtrid().equals(gtrid))
                .map(InDoubtTxn::reasons).flatMap(List::stream).map(InDoubtReason::kind).toList();
    }
}
