package dev.xatm.server.it;

import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Vote;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseAction;

/**
 * The test agent's translation between the participant core's vocabulary (tm-core's {@link Event},
 * {@link Action}, {@link Vote}) and the wire's. Spelled out constant by constant, so a constant added
 * on either side breaks the build here rather than mapping to something else. Stateless.
 */
final class WireMessages {
    private WireMessages() {}

    /** A phase command's action; null for one the core has no meaning for (UNSPECIFIED, a newer server's). */
    static Action action(PhaseAction a) {
        return switch (a) {
            case PREPARE -> Action.PREPARE;
            case COMMIT -> Action.COMMIT;
            case ROLLBACK -> Action.ROLLBACK;
            case COMMIT_ONE_PHASE -> Action.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> Action.CAN_COMMIT;
            case PRE_COMMIT -> Action.PRE_COMMIT;
            case PHASE_ACTION_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }

    static PhaseAction action(Action a) {
        return switch (a) {
            case PREPARE -> PhaseAction.PREPARE;
            case COMMIT -> PhaseAction.COMMIT;
            case ROLLBACK -> PhaseAction.ROLLBACK;
            case COMMIT_ONE_PHASE -> PhaseAction.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
        };
    }

    private static BranchVote vote(Vote v) {
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

    /** What the core asks to send: a vote, an acknowledgement (an own decision's report too) or an inquiry. */
    static AgentMessage toWire(Event e) {
        if (e instanceof Event.VoteReceived v) {
            // a 2PC agent leaves `answering` unset for PREPARE; the server reads unset as PREPARE
            dev.xatm.protocol.v1.Vote.Builder vote = dev.xatm.protocol.v1.Vote.newBuilder()
                    .setGtrid(v.gtrid()).setBqual(v.bqual()).setVote(vote(v.vote()));
            if (v.answering() != Action.PREPARE) {
                vote.setAnswering(action(v.answering()));
            }
            return AgentMessage.newBuilder().setVote(vote).build();
        }
        if (e instanceof Event.AckReceived a) {
            return AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(a.gtrid()).setBqual(a.bqual())
                    .setAction(action(a.action())).setResult(result(a.result())).setAutonomous(a.autonomous())).build();
        }
        if (e instanceof Event.Inquiry i) {
            return AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder()
                    .setGtrid(i.gtrid()).setBqual(i.bqual()).setResourceId(i.resourceId())).build();
        }
        throw new IllegalArgumentException("the participant core sends votes, acknowledgements and inquiries, not " + e);
    }
}
