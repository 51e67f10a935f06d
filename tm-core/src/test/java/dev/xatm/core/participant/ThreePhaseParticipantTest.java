package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.Willing;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.participant.Fixture.S1;
import static dev.xatm.core.participant.Fixture.armedToken;
import static dev.xatm.core.participant.Fixture.key;
import static dev.xatm.core.participant.Fixture.ops;
import static dev.xatm.core.participant.Fixture.own;
import static dev.xatm.core.participant.Fixture.to;
import static dev.xatm.core.participant.Fixture.vote;
import static org.assertj.core.api.Assertions.assertThat;

/** Three-phase commit at the participant: CAN_COMMIT, PRE_COMMIT, the two timers and the decisions taken alone. */
class ThreePhaseParticipantTest {
    private final Fixture f = new Fixture();
    private final BranchKey k = key("g1");

    @Test
    void canCommitEndsTheBranchVotesYesAndArmsTheRollbackTimer() {
        // Checks: CAN_COMMIT -> XA END; OK -> YES and a timer of the command's length; nothing durable.
        f.enlisted(k, true);
        assertThat(ops(f.command(k, Action.CAN_COMMIT, 300))).containsExactly(XaOp.END_CHECKED);
        var done = f.xa(k, XaOp.END_CHECKED, XaResult.OK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.CAN_COMMIT)));
        assertThat(done.timers()).containsExactly(new TimerCommand.Arm(k, armedToken(done), 300));
        assertThat(f.state(k)).isEqualTo(new Willing(armedToken(done)));
    }

    @Test
    void noPreCommitInTimeRollsBackAloneJournalsItAndReportsIt() {
        // Checks: the CAN_COMMIT timer fires -> journal ROLLBACK, XA ROLLBACK, then an autonomous report;
        // every later command hears that report, PRE_COMMIT included.
        long token = willing();
        f.step(new ParticipantEvent.Connected(S1, 0));
        var fired = f.step(new ParticipantEvent.TimerFired(k, token, 300));
        assertThat(fired.journal()).containsExactly(new OwnDecision(k, Fixture.DB, Action.ROLLBACK));
        assertThat(ops(fired)).containsExactly(XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.OK).messages()).containsExactly(to(S1, own(k, Action.ROLLBACK)));
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK_ON_ITS_OWN));
        var late = f.command(k, Action.PRE_COMMIT, 500);
        assertThat(late.xa()).isEmpty();
        assertThat(late.messages()).containsExactly(to(S1, own(k, Action.ROLLBACK)));
    }

    @Test
    void preCommitPreparesVotesYesAndArmsTheCommitTimer() {
        // Checks: PRE_COMMIT after CAN_COMMIT cancels the first timer, XA PREPARE, YES and a new timer.
        long first = willing();
        var asked = f.command(k, Action.PRE_COMMIT, 500);
        assertThat(asked.timers()).containsExactly(new TimerCommand.Cancel(k, first));
        assertThat(ops(asked)).containsExactly(XaOp.PREPARE);
        var done = f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.PRE_COMMIT)));
        assertThat(done.timers()).containsExactly(new TimerCommand.Arm(k, armedToken(done), 500));
    }

    @Test
    void noDecisionInTimeAfterPreCommitCommitsAloneAndALateRollbackHearsIt() {
        // Checks: the PRE_COMMIT timer fires -> journal COMMIT, XA COMMIT, report; a late ROLLBACK never undoes it.
        willing();
        f.command(k, Action.PRE_COMMIT, 500);
        long token = armedToken(f.xa(k, XaOp.PREPARE, XaResult.OK));
        var fired = f.step(new ParticipantEvent.TimerFired(k, token, 900));
        assertThat(fired.journal()).containsExactly(new OwnDecision(k, Fixture.DB, Action.COMMIT));
        assertThat(ops(fired)).containsExactly(XaOp.COMMIT);
        f.xa(k, XaOp.COMMIT, XaResult.OK);
        var late = f.command(k, Action.ROLLBACK);
        assertThat(late.xa()).isEmpty();
        assertThat(late.messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
    }

    @Test
    void aTimerThatIsNoLongerArmedDoesNothing() {
        // Checks: a firing of a replaced or cancelled timer is ignored (resent CAN_COMMIT re-arms; COMMIT cancels).
        long first = willing();
        var again = f.command(k, Action.CAN_COMMIT, 300);
        assertThat(again.messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.CAN_COMMIT)));
        assertThat(f.step(new ParticipantEvent.TimerFired(k, first, 300)).isEmpty()).isTrue();
        f.command(k, Action.ROLLBACK);
        assertThat(f.step(new ParticipantEvent.TimerFired(k, armedToken(again), 600)).isEmpty()).isTrue();
    }

    @Test
    void aDecisionBeforeTheTimerCancelsIt() {
        // Checks: COMMIT on a PRE_COMMIT-prepared branch cancels its timer.
        willing();
        f.command(k, Action.PRE_COMMIT, 500);
        long token = armedToken(f.xa(k, XaOp.PREPARE, XaResult.OK));
        assertThat(f.command(k, Action.COMMIT).timers()).containsExactly(new TimerCommand.Cancel(k, token));
    }

    @Test
    void aBranchThatWroteNothingAnswersReadOnlyToCanCommit() {
        // Checks: CAN_COMMIT of a branch with no write finishes it (END + one-phase commit) and answers READ_ONLY.
        f.enlisted(k, false);
        assertThat(ops(f.command(k, Action.CAN_COMMIT, 300))).containsExactly(XaOp.END, XaOp.COMMIT_ONE_PHASE);
        assertThat(f.xa(k, XaOp.COMMIT_ONE_PHASE, XaResult.OK).messages())
                .containsExactly(to(S1, vote(k, Vote.READ_ONLY, Action.CAN_COMMIT)));
    }

    @Test
    void aFailedPrepareAtPreCommitVotesNo() {
        // Checks: PRE_COMMIT's XA PREPARE failing -> NO, no timer.
        willing();
        f.command(k, Action.PRE_COMMIT, 500);
        var done = f.xa(k, XaOp.PREPARE, XaResult.ROLLED_BACK);
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.PRE_COMMIT)));
        assertThat(done.timers()).isEmpty();
    }

    @Test
    void aRestartedParticipantAnswersAndReportsWhatItsJournalSays() {
        // Checks: restore from the journal: reported on connect, answered to commands, and re-run when XA RECOVER
        // still lists the branch (its XA call may not have run before the crash).
        f.p = Participant.restore(ParticipantConfig.of(Fixture.AGENT, List.of(Fixture.DB), Fixture.REINQUIRE),
                List.of(new OwnDecision(k, Fixture.DB, Action.COMMIT)));
        var connected = f.step(new ParticipantEvent.Connected(S1, 10));
        assertThat(connected.messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
        assertThat(f.command(k, Action.PRE_COMMIT, 500).messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
        var listed = f.step(new ParticipantEvent.Recovered(Fixture.DB, List.of(k), 20));
        assertThat(listed.xa()).containsExactly(new XaCall(k, Fixture.DB, XaOp.COMMIT));
        f.xa(k, XaOp.COMMIT, XaResult.OK);
        assertThat(f.state(k)).isEqualTo(new Ended(End.COMMITTED_ON_ITS_OWN));
    }

    @Test
    void aCommandWithoutATimeoutArmsNoTimer() {
        // Checks: a PRE_COMMIT that carries no participant timeout leaves the branch waiting for the coordinator.
        willing();
        f.command(k, Action.PRE_COMMIT, 0);
        var done = f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(done.timers()).isEmpty();
        assertThat(done.messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.PRE_COMMIT)));
    }

    @Test
    void anAcknowledgementOfTheOwnDecisionIsDoneEvenIfItsCallFailed() {
        // Checks: own COMMIT's call UNAVAILABLE: still reported (the decision is journaled), and a problem is logged.
        willing();
        f.step(new ParticipantEvent.Connected(S1, 0));
        f.command(k, Action.PRE_COMMIT, 500);
        long token = armedToken(f.xa(k, XaOp.PREPARE, XaResult.OK));
        f.step(new ParticipantEvent.TimerFired(k, token, 900));
        var done = f.xa(k, XaOp.COMMIT, XaResult.UNAVAILABLE);
        assertThat(done.messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
        assertThat(done.problems()).hasSize(1);
        assertThat(f.command(k, Action.COMMIT).messages())
                .containsExactly(to(S1, new dev.xatm.core.Event.AckReceived(k.gtrid(), k.bqual(), Action.COMMIT,
                        AckResult.DONE, true, Fixture.AGENT)));
    }

    private long willing() {
        f.enlisted(k, true);
        f.command(k, Action.CAN_COMMIT, 300);
        return armedToken(f.xa(k, XaOp.END_CHECKED, XaResult.OK));
    }
}
