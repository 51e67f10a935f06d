package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.Vote;

import java.util.Optional;

/**
 * The agent's side of the wire, as pure mappings: a branch's answer to the vote or ack the server
 * expects (a phase command's action names its branch command itself: {@link BranchCommand#of}).
 * Stateless and thread-safe.
 */
final class AgentMessages {
    private AgentMessages() {
    }

    /**
     * Answers {@code command} on {@code link} (null: nothing is sent). Not connected, or an answer that
     * says nothing ({@link BranchAnswer#NONE}): the coordinator resends what it still needs after the
     * reconnect.
     */
    static void reply(ServerLink link, TmXid xid, BranchCommand command, BranchAnswer answer, AgentListener listener) {
        Optional<AgentMessage> m = answer(xid, command, answer, listener);
        if (m.isPresent() && link != null) {
            link.send(m.get());
        }
    }

    /** The message that answers {@code command} with {@code answer}; empty for {@link BranchAnswer#NONE}. */
    static Optional<AgentMessage> answer(TmXid xid, BranchCommand command, BranchAnswer answer, AgentListener listener) {
        return Optional.ofNullable(switch (answer) {
            case VOTE_YES, VOTE_NO, VOTE_READ_ONLY -> AgentMessage.newBuilder().setVote(Vote.newBuilder()
                    .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setVote(vote(answer)).setAnswering(answering(command))).build();
            case DECIDED_COMMIT, DECIDED_ROLLBACK -> AgentMessage.newBuilder().setAck(ownDecision(xid, command, answer, listener)).build();
            case DONE, ROLLED_BACK_INSTEAD, HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD ->
                    AgentMessage.newBuilder().setAck(ack(xid, command, result(answer))).build();
            case NONE -> null;
        });
    }

    /** The ack of a phase-two command that ended with {@code result}. */
    static Ack ack(TmXid xid, BranchCommand command, AckResult result) {
        return Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(command.wire()).setResult(result).build();
    }

    private static AckResult result(BranchAnswer answer) {
        return switch (answer) {
            case DONE -> AckResult.DONE;
            case ROLLED_BACK_INSTEAD -> AckResult.ROLLED_BACK_INSTEAD;
            case HEURISTIC_COMMIT -> AckResult.HEURISTIC_COMMIT;
            case HEURISTIC_ROLLBACK -> AckResult.HEURISTIC_ROLLBACK;
            case HEURISTIC_MIXED -> AckResult.HEURISTIC_MIXED;
            case HEURISTIC_HAZARD -> AckResult.HEURISTIC_HAZ;
            default -> throw new IllegalArgumentException("not an answer that ends phase two: " + answer);
        };
    }

    /**
     * The report of a decision the participant took on its own, in answer to {@code command}: that
     * decision as an autonomous Ack, or, when the command asks for the opposite (ROLLBACK of a branch
     * it committed), the command's Ack with the heuristic outcome the coordinator must record.
     */
    private static Ack ownDecision(TmXid xid, BranchCommand command, BranchAnswer answer, AgentListener listener) {
        boolean committed = answer == BranchAnswer.DECIDED_COMMIT;
        Ack.Builder ack = Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAutonomous(true);
        boolean opposite = committed ? command == BranchCommand.ROLLBACK
                : command == BranchCommand.COMMIT || command == BranchCommand.COMMIT_ONE_PHASE;
        if (opposite) {
            listener.heuristic(xid.toString());
            return ack.setAction(command.wire()).setResult(committed ? AckResult.HEURISTIC_COMMIT : AckResult.HEURISTIC_ROLLBACK).build();
        }
        return ack.setAction(committed ? PhaseAction.COMMIT : PhaseAction.ROLLBACK).setResult(AckResult.DONE).build();
    }

    /** What a vote answers: 2PC's PREPARE stays unspecified on the wire (the server reads that as PREPARE). */
    private static PhaseAction answering(BranchCommand c) {
        return switch (c) {
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
            default -> PhaseAction.PHASE_ACTION_UNSPECIFIED;
        };
    }

    private static BranchVote vote(BranchAnswer a) {
        return switch (a) {
            case VOTE_YES -> BranchVote.YES;
            case VOTE_READ_ONLY -> BranchVote.READ_ONLY;
            default -> BranchVote.NO;
        };
    }
}
