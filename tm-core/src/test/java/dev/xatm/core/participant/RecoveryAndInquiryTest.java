package dev.xatm.core.participant;

import dev.xatm.core.Action;
import dev.xatm.core.participant.BranchState.Prepared;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.participant.Fixture.DB;
import static dev.xatm.core.participant.Fixture.REINQUIRE;
import static dev.xatm.core.participant.Fixture.S1;
import static dev.xatm.core.participant.Fixture.S2;
import static dev.xatm.core.participant.Fixture.inquiry;
import static dev.xatm.core.participant.Fixture.key;
import static dev.xatm.core.participant.Fixture.ops;
import static dev.xatm.core.participant.Fixture.to;
import static org.assertj.core.api.Assertions.assertThat;

/** Inquiries, XA RECOVER, the recovery filter, refusals, and which server a branch is served by. */
class RecoveryAndInquiryTest {
    private final Fixture f = new Fixture();
    private final BranchKey k = key("g1");

    @Test
    void aReconnectInquiresAboutPreparedBranchesAndRunsXaRecover() {
        // Checks: Connected -> an Inquiry per prepared branch it serves, and XA RECOVER on every resource.
        prepared(k);
        var fx = f.step(new ParticipantEvent.Connected(S1, 0));
        assertThat(fx.messages()).containsExactly(to(S1, inquiry(k, DB)));
        assertThat(fx.xa()).containsExactly(new XaCall(null, DB, XaOp.RECOVER));
    }

    @Test
    void aBranchFoundByXaRecoverIsTakenUpPreparedByXidAndAskedAboutAtOnce() {
        // Checks: an unknown listed branch becomes Prepared(byXid) and is inquired about on an open stream.
        f.step(new ParticipantEvent.Connected(S1, 0));
        var fx = f.step(new ParticipantEvent.Recovered(DB, List.of(k), 5));
        assertThat(f.state(k)).isEqualTo(new Prepared(0, true, false));
        assertThat(fx.messages()).containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void noInquiryGoesOutWithoutAnOpenStream() {
        // Checks: listed while no stream is open -> remembered, nothing sent; the next Connected asks.
        var fx = f.step(new ParticipantEvent.Recovered(DB, List.of(k), 5));
        assertThat(fx.messages()).isEmpty();
        assertThat(f.step(new ParticipantEvent.Connected(S1, 6)).messages()).containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void aPreparedBranchNobodySpokeOfIsAskedAboutAgainAfterTheReinquiryInterval() {
        // Checks: a listed branch asked about at t=0 is not asked again before REINQUIRE, and is at REINQUIRE.
        prepared(k);
        f.step(new ParticipantEvent.Connected(S1, 0));
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), REINQUIRE - 1)).messages()).isEmpty();
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), REINQUIRE)).messages())
                .containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void anInquiryGoesToTheServingNodeOrAnyOpenOneWhenItIsAway() {
        // Checks: the branch registered with s1; with s1 gone, s2 (which answers from the store) is asked;
        // a command from s2 makes s2 its server.
        prepared(k);
        f.step(new ParticipantEvent.Connected(S2, 0));
        assertThat(f.p.server(k)).contains(S1);
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), REINQUIRE)).messages())
                .containsExactly(to(S2, inquiry(k, DB)));
        f.step(new ParticipantEvent.Command(S2, k, Action.COMMIT, 0, REINQUIRE + 1));
        assertThat(f.p.server(k)).contains(S2);
    }

    @Test
    void aRefusalOfAnUnknownGtridAsksAgain() {
        // Checks: Refused(not "not mine") -> the prepared branches of that gtrid are asked about again.
        prepared(k);
        assertThat(f.step(new ParticipantEvent.Refused(S1, "g1", false)).messages()).containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void recoveryTakesUpOnlyItsOwnDeploymentsBranches() {
        // Checks: with a cluster id, a listed branch of another cluster is left alone; asking about everything
        // takes it up until that cluster's "not mine" drops it for good.
        String mine = "x:aaaa1111-g1";
        String theirs = "x:bbbb2222-g1";
        f.p = new Participant(new ParticipantConfig(Fixture.AGENT, List.of(DB), true, REINQUIRE, "aaaa1111", false));
        f.step(new ParticipantEvent.Connected(S1, 0));
        var fx = f.step(new ParticipantEvent.Recovered(DB, List.of(new BranchKey(mine, "b1"), new BranchKey(theirs, "b1")), 1));
        assertThat(fx.messages()).containsExactly(to(S1, inquiry(new BranchKey(mine, "b1"), DB)));

        f.p = new Participant(new ParticipantConfig(Fixture.AGENT, List.of(DB), true, REINQUIRE, "aaaa1111", true));
        f.step(new ParticipantEvent.Connected(S1, 0));
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(new BranchKey(theirs, "b1")), 1)).messages()).hasSize(1);
        f.step(new ParticipantEvent.Refused(S1, theirs, true));
        assertThat(f.p.state(new BranchKey(theirs, "b1"))).isEmpty();
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(new BranchKey(theirs, "b1")), 500)).messages()).isEmpty();
    }

    @Test
    void aHeuristicTheDatabaseRemembersIsAskedAboutSoTheAnswerBringsItBack() {
        // Checks: a branch ended heuristically and still listed by XA RECOVER is inquired about.
        prepared(k);
        f.command(k, Action.COMMIT);
        f.xa(k, XaOp.COMMIT, XaResult.HEURISTIC_MIXED);
        f.step(new ParticipantEvent.Connected(S1, 0));
        assertThat(f.step(new ParticipantEvent.Recovered(DB, List.of(k), REINQUIRE)).messages())
                .containsExactly(to(S1, inquiry(k, DB)));
    }

    @Test
    void theSweepRunsXaRecoverOnEveryResource() {
        // Checks: Sweep -> XA RECOVER per configured resource.
        f.p = new Participant(ParticipantConfig.of(Fixture.AGENT, List.of("db-1", "db-2"), REINQUIRE));
        assertThat(ops(f.step(new ParticipantEvent.Sweep(0)))).containsExactly(XaOp.RECOVER, XaOp.RECOVER);
    }

    private void prepared(BranchKey b) {
        f.enlisted(b, true);
        f.command(b, Action.PREPARE);
        f.xa(b, XaOp.PREPARE, XaResult.OK);
    }
}
