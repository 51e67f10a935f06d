package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.Vote;

import java.util.Optional;

/**
 * The participant core's messages (in the coordinator's vocabulary: {@link Event.VoteReceived},
 * {@link Event.AckReceived}, {@link Event.Inquiry}) as the agent's wire messages, and a phase command's
 * action the other way. Pure mappings, one table each; stateless.
 */
final class ParticipantWire {
    private ParticipantWire() {
    }

    /** The wire message for {@code message}; empty for an event the agent never sends. */
    static Optional<AgentMessage> toWire(Event message) {
        if (message instanceof Event.VoteReceived v) {
            return Optional.of(AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(v.gtrid()).setBqual(v.bqual())
                    .setVote(vote(v.vote())).setAnswering(answering(v.answering()))).build());
        }
        if (message instanceof Event.AckReceived a) {
            return Optional.of(AgentMessage.newBuilder().setAck(ack(a)).build());
        }
        if (message instanceof Event.Inquiry i) {
            return Optional.of(AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder().setGtrid(i.gtrid()).setBqual(i.bqual())
                    .setResourceId(i.resourceId())).build());
        }
        return Optional.empty();
    }

    /** The acknowledgement as sent alone or in a batch. */
    static Ack ack(Event.AckReceived a) {
        return Ack.newBuilder().setGtrid(a.gtrid()).setBqual(a.bqual()).setAction(phaseAction(a.action()))
                .setResult(result(a.result())).setAutonomous(a.autonomous()).build();
    }

    /** The core's name of a phase command's action; empty for one this agent does not know. */
    static Optional<Action> action(PhaseAction wire) {
        return BranchCommand.of(wire).map(c -> Action.valueOf(c.name()));
    }

    static PhaseAction phaseAction(Action a) {
        return BranchCommand.valueOf(a.name()).wire();
    }

    /** What a vote answers: 2PC's PREPARE stays unspecified on the wire (the server reads that as PREPARE). */
    private static PhaseAction answering(Action a) {
        return switch (a) {
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
            default -> PhaseAction.PHASE_ACTION_UNSPECIFIED;
        };
    }

    private static BranchVote vote(dev.xatm.core.Vote v) {
        return switch (v) {
            case YES -> BranchVote.YES;
            case NO -> BranchVote.NO;
            case READ_ONLY -> BranchVote.READ_ONLY;
        };
    }

    private static AckResult result(dev.xatm.core.AckResult r) {
        return switch (r) {
            case DONE -> AckResult.DONE;
            case ROLLED_BACK_INSTEAD -> AckResult.ROLLED_BACK_INSTEAD;
            case HEURISTIC_COMMIT -> AckResult.HEURISTIC_COMMIT;
            case HEURISTIC_ROLLBACK -> AckResult.HEURISTIC_ROLLBACK;
            case HEURISTIC_MIXED -> AckResult.HEURISTIC_MIXED;
            case HEURISTIC_HAZARD -> AckResult.HEURISTIC_HAZ;
        };
    }
}
