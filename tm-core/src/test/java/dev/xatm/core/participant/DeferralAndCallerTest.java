package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.Prepared;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.participant.Fixture.DB;
import static dev.xatm.core.participant.Fixture.S1;
import static dev.xatm.core.participant.Fixture.ack;
import static dev.xatm.core.participant.Fixture.inquiry;
import static dev.xatm.core.participant.Fixture.key;
import static dev.xatm.core.participant.Fixture.ops;
import static dev.xatm.core.participant.Fixture.to;
import static dev.xatm.core.participant.Fixture.vote;
import static org.assertj.core.api.Assertions.assertThat;

/** A branch the business code still holds, and the one-round-trip commit run by the application's own thread. */
class DeferralAndCallerTest {
    private final Fixture f = new Fixture();
    private final BranchKey k = key("g1");

    @Test
    void aCommandWhileTheBusinessCodeHoldsTheBranchRunsWhenItLetsGo() {
        // Checks: PREPARE while held -> nothing now; the last Released runs it (with what the scope wrote).
        f.step(new ParticipantEvent.Enlisted(k, DB, S1));
        f.step(new ParticipantEvent.Held(k));
        assertThat(f.command(k, Action.PREPARE).isEmpty()).isTrue();
        assertThat(f.step(new ParticipantEvent.Released(k, true, false)).isEmpty()).isTrue(); // one holder left
        var last = f.step(new ParticipantEvent.Released(k, false, false));
        assertThat(ops(last)).containsExactly(XaOp.END, XaOp.PREPARE);
        assertThat(f.xa(k, XaOp.PREPARE, XaResult.OK).messages()).containsExactly(to(S1, vote(k, Vote.YES, Action.PREPARE)));
    }

    @Test
    void aRollbackParkedWhileHeldRollsBackWhenReleasedAndAcknowledges() {
        // Checks: ROLLBACK while held is parked, then runs on release; a failed scope votes NO afterwards.
        f.step(new ParticipantEvent.Enlisted(k, DB, S1));
        assertThat(f.command(k, Action.ROLLBACK).isEmpty()).isTrue();
        var released = f.step(new ParticipantEvent.Released(k, true, true));
        assertThat(ops(released)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(f.xa(k, XaOp.ROLLBACK, XaResult.OK).messages()).containsExactly(to(S1, ack(k, Action.ROLLBACK, AckResult.DONE)));
    }

    @Test
    void abandoningAnActiveBranchRollsItBackQuietly() {
        // Checks: the business code gives up: END(TMFAIL), ROLLBACK, nobody answered, the branch ends rolled back.
        f.enlisted(k, true);
        var fx = f.step(new ParticipantEvent.Abandoned(k));
        assertThat(ops(fx)).containsExactly(XaOp.END_FAIL, XaOp.ROLLBACK);
        assertThat(fx.messages()).isEmpty();
        assertThat(f.state(k)).isEqualTo(new Ended(End.ROLLED_BACK));
    }

    @Test
    void theCallersAnswersGoToTheCallerAndItsPreparedBranchIsNotInquiredAbout() {
        // Checks: a caller's PREPARE answers to the caller (server null); while it waits, a reconnect and
        // XA RECOVER ask nothing about the branch; after CallerDone they do.
        f.enlisted(k, true);
        f.step(new ParticipantEvent.CallerCommand(k, Action.PREPARE, 0, 0));
        var voted = f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(voted.messages()).containsExactly(to(null, vote(k, Vote.YES, Action.PREPARE)));
        assertThat(voted.messages().get(0).toCaller()).isTrue();
        assertThat(f.state(k)).isEqualTo(new Prepared(0, false, true));
        assertThat(f.step(new ParticipantEvent.Connected(S1, 0)).messages()).isEmpty();
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), 500)).messages()).isEmpty();
        f.step(new ParticipantEvent.CallerDone(k));
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), 1000)).messages())
                .containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void aCallerThatLostItsAnswerHasItsPreparedBranchAskedAboutAtOnce() {
        // Checks: CallerDone(outcomeUnknown) of a branch the caller left prepared sends an Inquiry on an open
        // stream at once; a plain CallerDone sends nothing (the caller learnt the outcome, or the coordinator
        // drives phase two); with no stream open nothing goes out until the next Connected.
        f.step(new ParticipantEvent.Connected(S1, 0));
        f.enlisted(k, true);
        f.step(new ParticipantEvent.CallerCommand(k, Action.PREPARE, 0, 0));
        f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(f.step(new ParticipantEvent.CallerDone(k, true)).messages()).containsExactly(to(S1, inquiry(k, DB)));

        BranchKey quiet = key("g-quiet");
        f.enlisted(quiet, true);
        f.step(new ParticipantEvent.CallerCommand(quiet, Action.PREPARE, 0, 0));
        f.xa(quiet, XaOp.PREPARE, XaResult.OK);
        assertThat(f.step(new ParticipantEvent.CallerDone(quiet)).messages()).isEmpty();

        BranchKey away = key("g-away");
        f.enlisted(away, true);
        f.step(new ParticipantEvent.CallerCommand(away, Action.PREPARE, 0, 0));
        f.xa(away, XaOp.PREPARE, XaResult.OK);
        f.step(new ParticipantEvent.Disconnected(S1));
        assertThat(f.step(new ParticipantEvent.CallerDone(away, true)).messages()).isEmpty();
        assertThat(f.step(new ParticipantEvent.Connected(S1, 1)).messages()).contains(to(S1, inquiry(away, DB)));
    }

    @Test
    void theCallersCommitIsAcknowledgedToTheCaller() {
        // Checks: phase 2 run by the caller answers the caller, who sends the ack on the stream itself.
        f.enlisted(k, true);
        f.step(new ParticipantEvent.CallerCommand(k, Action.PREPARE, 0, 0));
        f.xa(k, XaOp.PREPARE, XaResult.OK);
        assertThat(ops(f.step(new ParticipantEvent.CallerCommand(k, Action.COMMIT, 0, 0)))).containsExactly(XaOp.COMMIT);
        assertThat(f.xa(k, XaOp.COMMIT, XaResult.OK).messages()).containsExactly(to(null, ack(k, Action.COMMIT, AckResult.DONE)));
    }
}
