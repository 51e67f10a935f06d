package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.Prepared;
import org.junit.jupiter.api.Test;

import static dev.xatm.core.participant.Fixture.S1;
import static dev.xatm.core.participant.Fixture.ack;
import static dev.xatm.core.participant.Fixture.key;
import static dev.xatm.core.participant.Fixture.ops;
import static dev.xatm.core.participant.Fixture.to;
import static dev.xatm.core.participant.Fixture.vote;
import static org.assertj.core.api.Assertions.assertThat;

/** Two-phase commit at the participant: PREPARE, read-only votes, COMMIT, ROLLBACK, one phase, and how XA results are read. */
class TwoPhaseParticipantTest {
    private final Fixture f = new Fixture();
    private final BranchKey k = key("g1");

    @Test
    void prepareEndsAndPreparesAndVotesYesOnlyAfterThePrepareSucceeded() {
        // Checks: PREPARE asks for XA END then XA PREPARE and says nothing yet; the OK result brings the YES.
        f.enlisted(k, true);
        var asked = f.command(k, Action.PREPARE);
        assertThat(ops(asked)).containsExactly(XaOp.END, XaOp.PREPARE);
        assertThat(asked.messages()).isEmpty();
        var done = f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.PREPARE)));
        assertThat(f.state(k)).isEqualTo(new Prepared(0, false, false));
    }

    @Test
    void aBranchThatWroteNothingFinishesAtPrepareAndVotesReadOnly() {
        // Checks: no write -> XA END + one-phase commit, then READ_ONLY; a resent PREPARE hears READ_ONLY again.
        f.enlisted(k, false);
        var asked = f.command(k, Action.PREPARE);
        assertThat(ops(asked)).containsExactly(XaOp.END, XaOp.COMMIT_ONE_PHASE);
        assertThat(f.xa(k, XaOp.COMMIT_ONE_PHASE, XaResult.OK).messages())
                .containsExactly(to(S1, vote(k, Vote.READ_ONLY, Action.PREPARE)));
        assertThat(f.command(k, Action.PREPARE).messages()).containsExactly(to(S1, vote(k, Vote.READ_ONLY, Action.PREPARE)));
        assertThat(f.command(k, Action.COMMIT).messages()).containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.DONE)));
    }

    @Test
    void readOnlyVotesCanBeSwitchedOff() {
        // Checks: with readOnlyVotes false a branch that wrote nothing is prepared like any other.
        f.p = new Participant(new ParticipantConfig("agent-1", java.util.List.of("db-1"), false, 100, null, false));
        f.enlisted(k, false);
        assertThat(ops(f.command(k, Action.PREPARE))).containsExactly(XaOp.END, XaOp.PREPARE);
    }

    @Test
    void aFailedPrepareVotesNoAndRollsBack() {
        // Checks: XA_RB* at PREPARE -> a NO and a ROLLBACK to settle it; the branch ends rolled back.
        f.enlisted(k, true);
        f.command(k, Action.PREPARE);
        var done = f.xa(k, XaOp.PREPARE, XaResult.ROLLED_BACK);
        assertThat(ops(done)).containsExactly(XaOp.ROLLBACK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PREPARE)));
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void aFailedEndVotesNoAndEndsWithFailBeforeRollingBack() {
        // Checks: XA END failing at PREPARE -> END(TMFAIL) and ROLLBACK, a NO.
        f.enlisted(k, true);
        f.command(k, Action.PREPARE);
        var done = f.xa(k, XaOp.END, XaResult.FAILED);
        assertThat(ops(done)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PREPARE)));
    }

    @Test
    void aPrepareWhoseAnswerWasLostVotesNoAndIsRolledBackByXidUntilThatWorks() {
        // Checks: UNAVAILABLE at PREPARE may have prepared it: NO, then ROLLBACK by xid, retried at each sweep.
        f.enlisted(k, true);
        f.command(k, Action.PREPARE);
        var done = f.xa(k, XaOp.PREPARE, XaResult.UNAVAILABLE);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PREPARE)));
        assertThat(ops(done)).containsExactly(XaOp.ROLLBACK);
        f.xa(k, XaOp.ROLLBACK, XaResult.UNAVAILABLE);
        assertThat(f.state(k)).isEqualTo(new BranchState.InDoubt());
        var sweep = f.step(new ParticipantEvent.Sweep(5));
        assertThat(ops(sweep)).containsExactly(XaOp.ROLLBACK, XaOp.RECOVER);
        f.xa(k, XaOp.ROLLBACK, XaResult.NOT_FOUND);
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void aDoomedBranchVotesNoWithoutPreparing() {
        // Checks: a scope that failed dooms the branch; PREPARE rolls it back and votes NO at once.
        f.step(new ParticipantEvent.Enlisted(k, "db-1", S1));
        f.step(new ParticipantEvent.Released(k, true, true));
        var fx = f.command(k, Action.PREPARE);
        assertThat(ops(fx)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(fx.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PREPARE)));
    }

    @Test
    void commitAfterYesCommitsAndAcknowledgesOnceDone() {
        // Checks: COMMIT -> XA COMMIT; OK -> DONE; a resent COMMIT hears DONE without another XA call.
        prepared();
        var asked = f.command(k, Action.COMMIT);
        assertThat(ops(asked)).containsExactly(XaOp.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.OK).messages()).containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.DONE)));
        var again = f.command(k, Action.COMMIT);
        assertThat(again.xa()).isEmpty();
        assertThat(again.messages()).containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.DONE)));
    }

    @Test
    void notFoundOnCommitOnThePreparingConnectionIsAHeuristicHazard() {
        // Checks: XAER_NOTA on the connection that prepared it and never committed it: the branch vanished.
        prepared();
        f.command(k, Action.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.NOT_FOUND).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.HEURISTIC_HAZARD)));
    }

    @Test
    void notFoundOnCommitByXidIsDone() {
        // Checks: a COMMIT for a branch not in memory runs by xid, and XAER_NOTA there means committed.
        var asked = f.command(k, Action.COMMIT);
        assertThat(asked.xa()).containsExactly(new XaCall(k, null, XaOp.COMMIT));
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.NOT_FOUND).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.DONE)));
    }

    @Test
    void aCommitWhoseAnswerWasLostIsRetriedByXidAndThenNotFoundIsDone() {
        // Checks: UNAVAILABLE on COMMIT -> no answer, prepared by xid; the resent COMMIT's NOTA is DONE.
        prepared();
        f.command(k, Action.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.UNAVAILABLE).messages()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Prepared(0, true, false));
        f.command(k, Action.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.NOT_FOUND).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.DONE)));
    }

    @Test
    void rollbackOfAPreparedBranchAcknowledgesAndNotFoundIsDone() {
        // Checks: ROLLBACK -> XA ROLLBACK; XAER_NOTA counts as done.
        prepared();
        assertThat(ops(f.command(k, Action.ROLLBACK))).containsExactly(XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.NOT_FOUND).messages())
                .containsExactly(to(S1, ack(k, Action.ROLLBACK, AckResult.DONE)));
    }

    @Test
    void rollbackOfAnActiveBranchEndsWithFailFirst() {
        // Checks: ROLLBACK before PREPARE -> END(TMFAIL), ROLLBACK; even a failure acknowledges (the session's end rolls back).
        f.enlisted(k, true);
        assertThat(ops(f.command(k, Action.ROLLBACK))).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.FAILED).messages())
                .containsExactly(to(S1, ack(k, Action.ROLLBACK, AckResult.DONE)));
    }

    @Test
    void heuristicResultsAreReportedAndRepeatedToLaterCommands() {
        // Checks: XA_HEURRB on COMMIT -> HEURISTIC_ROLLBACK ack, and the same for the resend, never DONE.
        prepared();
        f.command(k, Action.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.HEURISTIC_ROLLBACK).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK)));
        assertThat(f.command(k, Action.COMMIT).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK)));
    }

    @Test
    void onePhaseCommitCommitsOrSaysRolledBackInstead() {
        // Checks: COMMIT_ONE_PHASE -> END + 1PC; OK -> DONE; XA_RB -> ROLLED_BACK_INSTEAD; lost -> no answer.
        f.enlisted(k, true);
        assertThat(ops(f.command(k, Action.COMMIT_ONE_PHASE))).containsExactly(XaOp.END, XaOp.COMMIT_ONE_PHASE);
        assertThat(f.xa(k, XaOp.COMMIT_ONE_PHASE, XaResult.OK).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT_ONE_PHASE, AckResult.DONE)));

        BranchKey k2 = key("g2");
        f.enlisted(k2, true);
        f.command(k2, Action.COMMIT_ONE_PHASE);
        assertThat(f.xa(k2, XaOp.COMMIT_ONE_PHASE, XaResult.ROLLED_BACK).messages())
                .containsExactly(to(S1, ack(k2, Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD)));
        assertThat(f.command(k2, Action.COMMIT_ONE_PHASE).messages())
                .containsExactly(to(S1, ack(k2, Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD)));

        BranchKey k3 = key("g3");
        f.enlisted(k3, true);
        f.command(k3, Action.COMMIT_ONE_PHASE);
        var lost = f.xa(k3, XaOp.COMMIT_ONE_PHASE, XaResult.UNAVAILABLE);
        assertThat(lost.messages()).isEmpty();
        assertThat(f.state(k3)).isEqualTo(new Ended(End.UNKNOWN));
    }

    @Test
    void commandsTheProtocolNeverSendsAreReportedAndLeftUnanswered() {
        // Checks: COMMIT of an active branch and ROLLBACK of a committed one: a problem, no XA call, no answer.
        f.enlisted(k, true);
        var commit = f.command(k, Action.COMMIT);
        assertThat(commit.xa()).isEmpty();
        assertThat(commit.messages()).isEmpty();
        assertThat(commit.problems()).hasSize(1);
        prepared(key("g2"));
        f.command(key("g2"), Action.COMMIT);
        f.xa(key("g2"), XaOp.COMMIT, XaResult.OK);
        var rollback = f.command(key("g2"), Action.ROLLBACK);
        assertThat(rollback.xa()).isEmpty();
        assertThat(rollback.problems()).hasSize(1);
    }

    @Test
    void unknownBranchesVoteNoAndOnePhaseRollsBackInstead() {
        // Checks: a branch this agent has no memory of (a restart) did not survive unprepared.
        assertThat(f.command(k, Action.PREPARE).messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PREPARE)));
        assertThat(f.command(k, Action.COMMIT_ONE_PHASE).messages())
                .containsExactly(to(S1, ack(k, Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD)));
    }

    @Test
    void aCommandWhileXaCallsRunIsLeftForTheResend() {
        // Checks: a command during running XA calls neither answers nor starts more calls.
        f.enlisted(k, true);
        f.command(k, Action.PREPARE);
        var dup = f.command(k, Action.PREPARE);
        assertThat(dup.isEmpty()).isTrue();
    }

    private void prepared() {
        prepared(k);
    }

    private void prepared(BranchKey b) {
        f.enlisted(b, true);
        f.command(b, Action.PREPARE);
        f.xa(b, XaOp.PREPARE, XaResult.OK);
    }
}
