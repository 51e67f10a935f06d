package dev.xatm.client.coordinator;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.TmUsageException;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link CoordinatorAccess} over gRPC to a tm-server. Every call gets its own deadline: the call
 * timeout for begin, register and status, the (longer) commit timeout for commit and rollback, which
 * wait for votes and possibly phase 2 on the server. Thread-safe (gRPC stubs are).
 */
public final class GrpcCoordinatorAccess implements CoordinatorAccess {
    private final CoordinatorGrpc.CoordinatorBlockingStub stub;
    private final String description;
    private final long callTimeoutMillis;
    private final long commitTimeoutMillis;

    public GrpcCoordinatorAccess(CoordinatorChannel channel, long callTimeoutMillis, long commitTimeoutMillis) {
        this.stub = CoordinatorGrpc.newBlockingStub(channel.channel());
        this.description = channel.description();
        this.callTimeoutMillis = callTimeoutMillis;
        this.commitTimeoutMillis = commitTimeoutMillis;
    }

    @Override
    public void begin(String gtrid, String name, long timeoutMillis, CommitProtocol protocol) {
        try {
            stub.withDeadlineAfter(callTimeoutMillis, TimeUnit.MILLISECONDS)
                    .begin(BeginRequest.newBuilder().setGtrid(gtrid).setName(name).setTimeoutMs(timeoutMillis)
                            .setProtocol(wire(protocol)).build());
        } catch (StatusRuntimeException e) {
            throw translate("Begin", gtrid, e, callTimeoutMillis);
        }
    }

    @Override
    public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
        try {
            stub.withDeadlineAfter(callTimeoutMillis, TimeUnit.MILLISECONDS)
                    .registerBranch(RegisterBranchRequest.newBuilder().setGtrid(gtrid).setBqual(bqual)
                            .setResourceId(resourceId).setAgentId(agentId).build());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                throw new BranchRefusedException(description + " refused RegisterBranch for global transaction " + gtrid + ": "
                        + e.getStatus().getDescription(), e);
            }
            throw translate("RegisterBranch", gtrid, e, callTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport commit(String gtrid, boolean waitForCompletion) {
        try {
            return report(stub.withDeadlineAfter(commitTimeoutMillis, TimeUnit.MILLISECONDS)
                    .commit(CommitRequest.newBuilder().setGtrid(gtrid).setWaitForCompletion(waitForCompletion).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                // presumed abort: the coordinator never heard of it or lost it before a decision
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, e.getStatus().getDescription());
            }
            if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + description
                        + " did not answer the commit request within " + commitTimeoutMillis + " ms (" + e.getStatus().getCode()
                        + "). The coordinator decides and finishes it; ask it with GetStatus or its admin API.", e);
            }
            throw translate("Commit", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport commitPrepared(String gtrid, String name, long timeoutMillis, String agentId, List<PreparedBranch> branches) {
        CommitRequest.Builder request = CommitRequest.newBuilder().setGtrid(gtrid).setName(name).setTimeoutMs(timeoutMillis)
                .setAgentId(agentId);
        for (PreparedBranch b : branches) {
            request.addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual(b.bqual()).setResourceId(b.resourceId())
                    .setVote(b.vote() == PreparedBranch.Vote.YES ? BranchVote.YES : BranchVote.READ_ONLY));
        }
        try {
            return report(stub.withDeadlineAfter(commitTimeoutMillis, TimeUnit.MILLISECONDS).commit(request.build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + description
                        + " did not answer the commit request within " + commitTimeoutMillis + " ms (" + e.getStatus().getCode()
                        + "). Its branches stay prepared; the agent asks the coordinator for the outcome and applies it.", e);
            }
            throw translate("Commit", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport rollback(String gtrid) {
        try {
            return report(stub.withDeadlineAfter(commitTimeoutMillis, TimeUnit.MILLISECONDS)
                    .rollback(RollbackRequest.newBuilder().setGtrid(gtrid).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, e.getStatus().getDescription());
            }
            throw translate("Rollback", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public String status(String gtrid) {
        try {
            return stub.withDeadlineAfter(callTimeoutMillis, TimeUnit.MILLISECONDS)
                    .getStatus(GetStatusRequest.newBuilder().setGtrid(gtrid).build()).getStatus().name();
        } catch (StatusRuntimeException e) {
            throw translate("GetStatus", gtrid, e, callTimeoutMillis);
        }
    }

    /** Always explicit: the server's tm.server.default-protocol applies only to clients that name none. */
    private static dev.xatm.protocol.v1.CommitProtocol wire(CommitProtocol protocol) {
        return switch (protocol) {
            case TWO_PHASE -> dev.xatm.protocol.v1.CommitProtocol.TWO_PHASE;
            case THREE_PHASE -> dev.xatm.protocol.v1.CommitProtocol.THREE_PHASE;
        };
    }

    @Override
    public String describe() {
        return description;
    }

    private static OutcomeReport report(OutcomeResponse r) {
        GlobalOutcome outcome = switch (r.getOutcome()) {
            case COMMITTED -> GlobalOutcome.COMMITTED;
            case ROLLED_BACK -> GlobalOutcome.ROLLED_BACK;
            case TIMED_OUT -> GlobalOutcome.TIMED_OUT;
            case HEURISTIC_HAZARD -> GlobalOutcome.HEURISTIC_HAZARD;
            default -> throw new TmSystemException("coordinator answered with an outcome this client does not know: " + r.getOutcome());
        };
        return new OutcomeReport(outcome, r.getDetail());
    }

    private RuntimeException translate(String call, String gtrid, StatusRuntimeException e, long deadlineMillis) {
        Status s = e.getStatus();
        String what = call + " for global transaction " + gtrid;
        return switch (s.getCode()) {
            case UNAVAILABLE -> new TmSystemException(description + " is unreachable (" + what + "): " + s.getDescription()
                    + ". Check tm.client.server-address and that tm-server runs.", e);
            case DEADLINE_EXCEEDED -> new TmSystemException(description + " did not answer " + what + " within "
                    + deadlineMillis + " ms (tm.client.call-timeout-ms)", e);
            case UNAUTHENTICATED -> new TmSystemException(description + " refused " + what
                    + ": bad token. Set tm.client.auth-token to tm-server's tm.server.auth-token.", e);
            case INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION -> new TmUsageException(
                    description + " refused " + what + ": " + s.getCode() + " " + s.getDescription(), e);
            default -> new TmSystemException(description + " failed " + what + ": " + s.getCode() + " " + s.getDescription(), e);
        };
    }
}
