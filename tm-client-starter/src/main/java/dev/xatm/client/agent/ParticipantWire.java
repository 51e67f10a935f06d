package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchAnswer;
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

import java.util.List;
import java.util.Optional;

/**
 * The participant core's messages (in the coordinator's vocabulary: {@link Event.VoteReceived},
 * {@link Event.AckReceived}, {@link Event.Inquiry}) as the agent's wire messages and as the answers its
 * calling threads read, and a phase command's action the other way. Pure mappings, one table each; stateless.
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

    /**
     * What the core answered the calling thread ({@link dev.xatm.core.participant.ParticipantEvent.CallerCommand}),
     * as the answer the one-round-trip and cheap-3PC paths read: the last message, or
     * {@link BranchAnswer#NONE} when there is none (the outcome is unknown, or the command is left for a resend).
     */
    static BranchAnswer callerAnswer(List<Event> toCaller) {
        if (toCaller.isEmpty()) {
            return BranchAnswer.NONE;
        }
        Event last = toCaller.get(toCaller.size() - 1);
        if (last instanceof Event.VoteReceived v) {
            return switch (v.vote()) {
                case YES -> BranchAnswer.VOTE_YES;
                case NO -> BranchAnswer.VOTE_NO;
                case READ_ONLY -> BranchAnswer.VOTE_READ_ONLY;
            };
        }
        if (last instanceof Event.AckReceived a) {
            if (a.autonomous() && a.result() == dev.xatm.core.AckResult.DONE) {
                return a.action() == Action.COMMIT ? BranchAnswer.DECIDED_COMMIT : BranchAnswer.DECIDED_ROLLBACK;
            }
            return switch (a.result()) {
                case DONE -> BranchAnswer.DONE;
                case ROLLED_BACK_INSTEAD -> BranchAnswer.ROLLED_BACK_INSTEAD;
                case HEURISTIC_COMMIT -> BranchAnswer.HEURISTIC_COMMIT;
                case HEURISTIC_ROLLBACK -> BranchAnswer.HEURISTIC_ROLLBACK;
                case HEURISTIC_MIXED -> BranchAnswer.HEURISTIC_MIXED;
                case HEURISTIC_HAZARD -> BranchAnswer.HEURISTIC_HAZARD;
            };
        }
        return BranchAnswer.NONE;
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
