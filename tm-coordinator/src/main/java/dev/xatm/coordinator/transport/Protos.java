package dev.xatm.coordinator.transport;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import io.grpc.Status;

/**
 * Conversions between the wire enums and the core's. The core's enums mirror the wire's by name;
 * every mapping is still spelled out, so that adding a constant on one side breaks the build here
 * instead of silently mapping to something else. Wire values the core has no meaning for
 * (UNSPECIFIED, unknown numbers from a newer client) become {@link IllegalArgumentException}s, which
 * the service answers with INVALID_ARGUMENT.
 */
final class Protos {
    private Protos() {}

    /** The core's ErrorCode names the gRPC code it stands for, one to one. */
    static Status status(ErrorCode code) {
        return switch (code) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case RESOURCE_EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
            case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
        };
    }

    static dev.xatm.protocol.v1.Outcome outcome(Outcome outcome) {
        return switch (outcome) {
            case COMMITTED -> dev.xatm.protocol.v1.Outcome.COMMITTED;
            case ROLLED_BACK -> dev.xatm.protocol.v1.Outcome.ROLLED_BACK;
            case TIMED_OUT -> dev.xatm.protocol.v1.Outcome.TIMED_OUT;
            case HEURISTIC_HAZARD -> dev.xatm.protocol.v1.Outcome.HEURISTIC_HAZARD;
        };
    }

    static dev.xatm.protocol.v1.TxnStatus status(TxnStatus status) {
        return switch (status) {
            case UNKNOWN -> dev.xatm.protocol.v1.TxnStatus.UNKNOWN;
            case ACTIVE -> dev.xatm.protocol.v1.TxnStatus.ACTIVE;
            case PREPARING -> dev.xatm.protocol.v1.TxnStatus.PREPARING;
            case ASKING_CAN_COMMIT -> dev.xatm.protocol.v1.TxnStatus.ASKING_CAN_COMMIT;
            case PRE_COMMITTING -> dev.xatm.protocol.v1.TxnStatus.PRE_COMMITTING;
            case COMMITTING -> dev.xatm.protocol.v1.TxnStatus.COMMITTING;
            case ROLLING_BACK -> dev.xatm.protocol.v1.TxnStatus.ROLLING_BACK;
            case FINISHED_COMMITTED -> dev.xatm.protocol.v1.TxnStatus.FINISHED_COMMITTED;
            case FINISHED_ROLLED_BACK -> dev.xatm.protocol.v1.TxnStatus.FINISHED_ROLLED_BACK;
            case FINISHED_HEURISTIC_HAZARD -> dev.xatm.protocol.v1.TxnStatus.FINISHED_HEURISTIC_HAZARD;
            case FINISHED_HEURISTIC -> dev.xatm.protocol.v1.TxnStatus.FINISHED_HEURISTIC;
        };
    }

    static PhaseAction action(Action action) {
        return switch (action) {
            case PREPARE -> PhaseAction.PREPARE;
            case COMMIT -> PhaseAction.COMMIT;
            case ROLLBACK -> PhaseAction.ROLLBACK;
            case COMMIT_ONE_PHASE -> PhaseAction.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
        };
    }

    static Action action(PhaseAction action) {
        return switch (action) {
            case PREPARE -> Action.PREPARE;
            case COMMIT -> Action.COMMIT;
            case ROLLBACK -> Action.ROLLBACK;
            case COMMIT_ONE_PHASE -> Action.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> Action.CAN_COMMIT;
            case PRE_COMMIT -> Action.PRE_COMMIT;
            case PHASE_ACTION_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException(
                    "action must be PREPARE, COMMIT, ROLLBACK, COMMIT_ONE_PHASE, CAN_COMMIT or PRE_COMMIT, got " + action);
        };
    }

    /** What a Vote answers; unspecified means PREPARE (a 2PC agent need not set it). */
    static Action answering(PhaseAction action) {
        return switch (action) {
            case PHASE_ACTION_UNSPECIFIED, PREPARE -> Action.PREPARE;
            case CAN_COMMIT -> Action.CAN_COMMIT;
            case PRE_COMMIT -> Action.PRE_COMMIT;
            case COMMIT, ROLLBACK, COMMIT_ONE_PHASE, UNRECOGNIZED -> throw new IllegalArgumentException(
                    "a vote answers PREPARE, CAN_COMMIT or PRE_COMMIT, got " + action);
        };
    }

    /** Unspecified means "the server's default", which the core applies (null). */
    static dev.xatm.core.Protocol protocol(dev.xatm.protocol.v1.CommitProtocol protocol) {
        return switch (protocol) {
            case COMMIT_PROTOCOL_UNSPECIFIED -> null;
            case TWO_PHASE -> dev.xatm.core.Protocol.TWO_PHASE;
            case THREE_PHASE -> dev.xatm.core.Protocol.THREE_PHASE;
            case UNRECOGNIZED -> throw new IllegalArgumentException("protocol must be TWO_PHASE or THREE_PHASE, got " + protocol);
        };
    }

    static Vote vote(BranchVote vote) {
        return switch (vote) {
            case YES -> Vote.YES;
            case NO -> Vote.NO;
            case READ_ONLY -> Vote.READ_ONLY;
            case BRANCH_VOTE_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("vote must be YES, NO or READ_ONLY, got " + vote);
        };
    }

    static AckResult ackResult(dev.xatm.protocol.v1.AckResult result) {
        return switch (result) {
            case DONE -> AckResult.DONE;
            case ROLLED_BACK_INSTEAD -> AckResult.ROLLED_BACK_INSTEAD;
            case HEURISTIC_COMMIT -> AckResult.HEURISTIC_COMMIT;
            case HEURISTIC_ROLLBACK -> AckResult.HEURISTIC_ROLLBACK;
            case HEURISTIC_MIXED -> AckResult.HEURISTIC_MIXED;
            case HEURISTIC_HAZ -> AckResult.HEURISTIC_HAZARD;
            case ACK_RESULT_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException("result must be DONE, ROLLED_BACK_INSTEAD,"
                    + " HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED or HEURISTIC_HAZ, got " + result);
        };
    }
}
