package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.Active;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.Prepared;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.participant.Fixture.DB;
import static dev.xatm.core.participant.Fixture.S1;
import static dev.xatm.core.participant.Fixture.S2;
import static dev.xatm.core.participant.Fixture.armedToken;
import static dev.xatm.core.participant.Fixture.key;
import static dev.xatm.core.participant.Fixture.ops;
import static dev.xatm.core.participant.Fixture.own;
import static dev.xatm.core.participant.Fixture.to;
import static dev.xatm.core.participant.Fixture.vote;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules the core shares with tm-client-starter's Agent and Branch: unprepared branches rolled back
 * when their server's stream breaks, own decisions reported once, a bounded memory of finished
 * branches, and CAN_COMMIT's health check.
 */
class AgentParityTest {
    private final Fixture f = new Fixture();
    private final BranchKey k = key("g1");

    @Test
    void aLostStreamRollsBackTheIdleUnpreparedBranchesOfThatServerQuietly() {
        // Checks: Disconnected(s1) -> an idle ACTIVE branch of s1 gets END(TMFAIL), ROLLBACK, nobody answered.
        f.step(new ParticipantEvent.Connected(S1, 0));
        f.enlisted(k, true);
        var fx = f.step(new ParticipantEvent.Disconnected(S1));
        assertThat(ops(fx)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.OK).messages()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void aLostStreamRollsBackAHeldBranchWhenTheBusinessCodeLetsGo() {
        // Checks: a held branch is doomed and its ROLLBACK parked; the last Released runs it.
        f.step(new ParticipantEvent.Enlisted(k, DB, S1));
        assertThat(f.step(new ParticipantEvent.Disconnected(S1)).xa()).isEmpty();
        assertThat(f.state(k)).isInstanceOf(Active.class);
        assertThat(((Active) f.state(k)).doomed()).isTrue();
        var released = f.step(new ParticipantEvent.Released(k, true, false));
        assertThat(ops(released)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.OK).messages()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void aLostStreamRollsBackAWillingBranchAndCancelsItsTimer() {
        // Checks: 3PC's YES to CAN_COMMIT is not prepared: the stream's end cancels the timer and rolls back.
        f.enlisted(k, true);
        f.command(k, Action.CAN_COMMIT, 300);
        long token = armedToken(f.xa(k, XaOp.END_CHECKED, XaResult.OK));
        var fx = f.step(new ParticipantEvent.Disconnected(S1));
        assertThat(fx.timers()).containsExactly(new TimerCommand.Cancel(k, token));
        assertThat(ops(fx)).containsExactly(XaOp.ROLLBACK);
        f.xa(k, XaOp.ROLLBACK, XaResult.OK);
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void aLostStreamLeavesPreparedBranchesOtherServersBranchesAndCallerBranchesAlone() {
        // Checks: prepared branches wait for the decision; s2's branches and one riding its caller's commit
        // (no server yet) are not s1's to abort.
        BranchKey prepared = key("g2");
        BranchKey ofS2 = key("g3");
        BranchKey riding = key("g4");
        f.enlisted(prepared, true);
        f.command(prepared, Action.PREPARE);
        f.xa(prepared, XaOp.PREPARE, XaResult.OK);
        f.step(new ParticipantEvent.Enlisted(ofS2, DB, S2));
        f.step(new ParticipantEvent.Released(ofS2, true, false));
        f.step(new ParticipantEvent.Enlisted(riding, DB, null));
        f.step(new ParticipantEvent.Released(riding, true, false));
        assertThat(f.step(new ParticipantEvent.Disconnected(S1)).isEmpty()).isTrue();
        assertThat(f.state(prepared)).isInstanceOf(Prepared.class);
        assertThat(f.state(ofS2)).isInstanceOf(Active.class);
        assertThat(f.state(riding)).isInstanceOf(Active.class);
    }

    @Test
    void anOwnDecisionIsReportedOnceNotOnEveryReconnect() {
        // Checks: decided while no stream was open -> reported at the next Connected, not at the one after;
        // a later command still hears it.
        committedOnItsOwnWhileAway();
        assertThat(f.step(new ParticipantEvent.Connected(S1, 1000)).messages()).contains(to(S1, own(k, Action.COMMIT)));
        f.step(new ParticipantEvent.Disconnected(S1));
        assertThat(f.step(new ParticipantEvent.Connected(S1, 2000)).messages()).doesNotContain(to(S1, own(k, Action.COMMIT)));
        assertThat(f.command(k, Action.ROLLBACK).messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
    }

    @Test
    void anOwnDecisionTakenWhileConnectedIsReportedAtOnceAndNotAgain() {
        // Checks: the report leaves with the XA result; the next Connected does not repeat it.
        f.step(new ParticipantEvent.Connected(S1, 0));
        f.enlisted(k, true);
        f.command(k, Action.PRE_COMMIT, 500);
        long token = armedToken(f.xa(k, XaOp.PREPARE, XaResult.OK));
        f.step(new ParticipantEvent.TimerFired(k, token, 500));
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.OK).messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
        assertThat(f.step(new ParticipantEvent.Connected(S1, 600)).messages()).doesNotContain(to(S1, own(k, Action.COMMIT)));
    }

    @Test
    void anOwnDecisionWaitsForItsOwnServerNotAnyOpenStream() {
        // Checks: decided while s1 (its server) is away: s2's Connected does not take the report (s2 would
        // drop it), s1's does.
        committedOnItsOwnWhileAway();
        assertThat(f.step(new ParticipantEvent.Connected(S2, 1000)).messages()).doesNotContain(to(S2, own(k, Action.COMMIT)));
        assertThat(f.step(new ParticipantEvent.Connected(S1, 1000)).messages()).contains(to(S1, own(k, Action.COMMIT)));
    }

    @Test
    void aRestoredOwnDecisionIsReportedOnceAfterTheRestart() {
        // Checks: the journal's decision is reported at the first Connected after restore, once.
        f.p = Participant.restore(ParticipantConfig.of(Fixture.AGENT, List.of(DB), Fixture.REINQUIRE),
                List.of(new OwnDecision(k, DB, Action.ROLLBACK)));
        assertThat(f.step(new ParticipantEvent.Connected(S1, 0)).messages()).contains(to(S1, own(k, Action.ROLLBACK)));
        assertThat(f.step(new ParticipantEvent.Connected(S2, 0)).messages()).doesNotContain(to(S2, own(k, Action.ROLLBACK)));
    }

    @Test
    void finishedBranchesBeyondTheMemoryAreForgottenOldestFirst() {
        // Checks: with finishedMemory 2, the third clean end forgets the first; a resent COMMIT for it is
        // then run by xid, where XAER_NOTA means done, the same answer memory would have given.
        f.p = new Participant(new ParticipantConfig(Fixture.AGENT, List.of(DB), true, Fixture.REINQUIRE, null, false, 2));
        List<BranchKey> keys = List.of(key("g1"), key("g2"), key("g3"));
        for (BranchKey x : keys) {
            f.enlisted(x, true);
            f.command(x, Action.PREPARE);
            f.xa(x, XaOp.PREPARE, XaResult.OK);
            f.command(x, Action.COMMIT);
            f.xa(x, XaOp.COMMIT, XaResult.OK);
        }
        assertThat(f.p.branches()).containsExactly(key("g2"), key("g3"));
        var resent = f.command(key("g1"), Action.COMMIT);
        assertThat(ops(resent)).containsExactly(XaOp.COMMIT);
        assertThat(f.xa(key("g1"), XaOp.COMMIT, XaResult.NOT_FOUND).messages())
                .containsExactly(to(S1, Fixture.ack(key("g1"), Action.COMMIT, AckResult.DONE)));
    }

    @Test
    void ownDecisionsAndHeuristicsAreNotForgottenByTheBound() {
        // Checks: with finishedMemory 1, an own COMMIT survives later clean ends, so a late ROLLBACK still
        // hears the own decision instead of a by-xid XAER_NOTA that would hide it.
        f.p = new Participant(new ParticipantConfig(Fixture.AGENT, List.of(DB), true, Fixture.REINQUIRE, null, false, 1));
        committedOnItsOwnWhileAway();
        for (BranchKey x : List.of(key("g2"), key("g3"))) {
            f.enlisted(x, true);
            f.command(x, Action.ROLLBACK);
            f.xa(x, XaOp.ROLLBACK, XaResult.OK);
        }
        assertThat(f.p.branches()).containsExactly(k, key("g3"));
        assertThat(f.command(k, Action.ROLLBACK).messages()).containsExactly(to(S1, own(k, Action.COMMIT)));
    }

    @Test
    void aFailedHealthCheckAtCanCommitVotesNoAndRollsBack() {
        // Checks: CAN_COMMIT runs END_CHECKED; the driver reports a dead connection as UNAVAILABLE ->
        // END(TMFAIL), ROLLBACK, NO, as Branch's Connection.isValid check does.
        f.enlisted(k, true);
        assertThat(ops(f.command(k, Action.CAN_COMMIT, 300))).containsExactly(XaOp.END_CHECKED);
        var failed = f.xa(k, XaOp.END_CHECKED, XaResult.UNAVAILABLE);
        assertThat(ops(failed)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(failed.messages()).containsExactly(to(S1, vote(k, Vote.NO, Action.CAN_COMMIT)));
        assertThat(failed.timers()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    /** PRE_COMMIT, then the stream breaks and the commit timer fires: COMMITTED_ON_ITS_OWN, not yet reported. */
    private void committedOnItsOwnWhileAway() {
        f.enlisted(k, true);
        f.command(k, Action.PRE_COMMIT, 500);
        long token = armedToken(f.xa(k, XaOp.PREPARE, XaResult.OK));
        f.step(new ParticipantEvent.Disconnected(S1));
        f.step(new ParticipantEvent.TimerFired(k, token, 500));
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.OK).messages()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Ended(End.COMMITTED_ON_ITS_OWN));
    }
}
