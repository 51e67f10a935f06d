package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The participant core's messages on the agent's wire. */
class ParticipantWireTest {

    @Test
    void votesNameWhatTheyAnswerExceptTwoPhasePrepare() {
        AgentMessage prepare = ParticipantWire.toWire(new Event.VoteReceived("g", "b", Vote.READ_ONLY, Action.PREPARE, "a")).orElseThrow();
        assertThat(prepare.getVote().getVote()).isEqualTo(BranchVote.READ_ONLY);
        assertThat(prepare.getVote().getAnswering()).isEqualTo(PhaseAction.PHASE_ACTION_UNSPECIFIED);
        assertThat(prepare.getVote().getGtrid()).isEqualTo("g");
        assertThat(prepare.getVote().getBqual()).isEqualTo("b");

        AgentMessage canCommit = ParticipantWire.toWire(new Event.VoteReceived("g", "b", Vote.NO, Action.CAN_COMMIT, "a")).orElseThrow();
        assertThat(canCommit.getVote().getVote()).isEqualTo(BranchVote.NO);
        assertThat(canCommit.getVote().getAnswering()).isEqualTo(PhaseAction.CAN_COMMIT);
    }

    @Test
    void acksCarryActionResultAndWhetherThePartcipantDecidedAlone() {
        AgentMessage own = ParticipantWire.toWire(new Event.AckReceived("g", "b", Action.ROLLBACK, AckResult.DONE, true, "a")).orElseThrow();
        assertThat(own.getAck().getAction()).isEqualTo(PhaseAction.ROLLBACK);
        assertThat(own.getAck().getResult()).isEqualTo(dev.xatm.protocol.v1.AckResult.DONE);
        assertThat(own.getAck().getAutonomous()).isTrue();

        AgentMessage hazard = ParticipantWire.toWire(new Event.AckReceived("g", "b", Action.COMMIT, AckResult.HEURISTIC_HAZARD, "a"))
                .orElseThrow();
        assertThat(hazard.getAck().getResult()).isEqualTo(dev.xatm.protocol.v1.AckResult.HEURISTIC_HAZ);
        assertThat(hazard.getAck().getAutonomous()).isFalse();
    }

    @Test
    void inquiriesNameTheirResource() {
        AgentMessage m = ParticipantWire.toWire(new Event.Inquiry("g", "b", "orders-db", "a")).orElseThrow();
        assertThat(m.getInquiry().getResourceId()).isEqualTo("orders-db");
        assertThat(m.getInquiry().getGtrid()).isEqualTo("g");
    }

    @Test
    void everyWireActionHasItsCoreActionAndBack() {
        for (Action a : Action.values()) {
            assertThat(ParticipantWire.action(ParticipantWire.phaseAction(a))).contains(a);
        }
        assertThat(ParticipantWire.action(PhaseAction.PHASE_ACTION_UNSPECIFIED)).isEmpty();
    }

    @Test
    void theCallerReadsTheLastAnswerAndNoneWhenThereIsNone() {
        assertThat(ParticipantWire.callerAnswer(java.util.List.of())).isEqualTo(BranchAnswer.NONE);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(new Event.VoteReceived("g", "b", Vote.NO, Action.PREPARE, "a"),
                new Event.VoteReceived("g", "b", Vote.YES, Action.PREPARE, "a")))).isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(new Event.VoteReceived("g", "b", Vote.READ_ONLY, Action.CAN_COMMIT, "a"))))
                .isEqualTo(BranchAnswer.VOTE_READ_ONLY);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(new Event.AckReceived("g", "b", Action.COMMIT, AckResult.DONE, "a"))))
                .isEqualTo(BranchAnswer.DONE);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(
                new Event.AckReceived("g", "b", Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD, "a"))))
                .isEqualTo(BranchAnswer.ROLLED_BACK_INSTEAD);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(
                new Event.AckReceived("g", "b", Action.COMMIT, AckResult.HEURISTIC_HAZARD, "a")))).isEqualTo(BranchAnswer.HEURISTIC_HAZARD);
        // an own decision answers every command with itself
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(new Event.AckReceived("g", "b", Action.ROLLBACK, AckResult.DONE, true, "a"))))
                .isEqualTo(BranchAnswer.DECIDED_ROLLBACK);
        assertThat(ParticipantWire.callerAnswer(java.util.List.of(new Event.AckReceived("g", "b", Action.COMMIT, AckResult.DONE, true, "a"))))
                .isEqualTo(BranchAnswer.DECIDED_COMMIT);
    }

    @Test
    void eventsAnAgentNeverSendsHaveNoWireForm() {
        assertThat(ParticipantWire.toWire(new Event.Tick(0))).isEmpty();
    }
}
