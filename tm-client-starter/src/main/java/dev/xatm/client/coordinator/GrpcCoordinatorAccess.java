package dev.xatm.client.coordinator;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.TmUsageException;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CanCommitHeldResponse;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RollbackRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link CoordinatorAccess} over gRPC to tm-servers. Every call gets its own deadline: the call
 * timeout for begin, register and status, the (longer) commit timeout for commit and rollback, which
 * wait for votes and possibly phase 2 on the server. Thread-safe (gRPC stubs are).
 *
 * <p>Each call goes to the server that owns its gtrid ({@link ServerRoutes}). While that server is
 * not connected the call fails at once as UNAVAILABLE would (no other server may decide the gtrid,
 * and the callers already handle an unreachable coordinator), except where not sending tells more: a
 * commit with prepared branches comes back ROLLED_BACK (its gtrid never left the process, so no
 * server can have decided it, and the caller rolls back at once), and a plain commit fails saying it
 * was not sent. A FAILED_PRECONDITION to a commit is a
 * server refusing a gtrid it does not own (or one it cannot commit that way): it decided nothing, so
 * it reads as rolled back. (Not so for a rollback: there it may mean "the commit is under way".)
 */
public final class GrpcCoordinatorAccess implements CoordinatorAccess {
    private final ServerRoutes routes;
    private final Map<CoordinatorChannel, CoordinatorGrpc.CoordinatorBlockingStub> stubs = new ConcurrentHashMap<>();
    private final String description;
    private final long callTimeoutMillis;
    private final long commitTimeoutMillis;
    /** Commits with votes on the agent's stream; null: the Commit call only. */
    private final StreamCommitter streams;
    /** The agent's instance secret (Agent#instanceSecret), sent with the calls that name the agent. */
    private final String agentSecret;

    /** Every call on one channel (one server of a file store; tests), for the agent whose instance secret is {@code agentSecret}. */
    public GrpcCoordinatorAccess(CoordinatorChannel channel, String agentSecret, long callTimeoutMillis, long commitTimeoutMillis) {
        this(ServerRoutes.single(channel), null, agentSecret, channel.description(), callTimeoutMillis, commitTimeoutMillis);
    }

    /**
     * Each call to the server {@code routes} names for its gtrid; {@code description} names them all, for
     * messages. RegisterBranch and a commit with votes carry {@code agentSecret}, the instance secret of
     * the agent they name: the server takes them only from that agent's own process.
     */
    public GrpcCoordinatorAccess(ServerRoutes routes, String agentSecret, String description, long callTimeoutMillis,
                                 long commitTimeoutMillis) {
        this(routes, null, agentSecret, description, callTimeoutMillis, commitTimeoutMillis);
    }

    /**
     * As above; commits with votes go on the agent's stream through {@code streams} where the server
     * takes them there (null: always the Commit call).
     */
    public GrpcCoordinatorAccess(ServerRoutes routes, StreamCommitter streams, String agentSecret, String description,
                                 long callTimeoutMillis, long commitTimeoutMillis) {
        this.streams = streams;
        this.agentSecret = agentSecret;
        this.routes = routes;
        this.description = description;
        this.callTimeoutMillis = callTimeoutMillis;
        this.commitTimeoutMillis = commitTimeoutMillis;
    }

    /**
     * The stub for the server that serves {@code gtrid}, with a deadline; an UNAVAILABLE without
     * sending anything while that server is not connected.
     */
    private CoordinatorGrpc.CoordinatorBlockingStub stub(String gtrid, long deadlineMillis) {
        CoordinatorChannel channel = routes.channelFor(gtrid).orElseThrow(() -> Status.UNAVAILABLE
                .withDescription("no open stream to " + routes.describeRoute(gtrid) + ", the only server that may decide "
                        + gtrid + "; nothing was sent")
                .asRuntimeException());
        return stubs.computeIfAbsent(channel, c -> CoordinatorGrpc.newBlockingStub(c.channel()))
                .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void begin(String gtrid, String name, long timeoutMillis, CommitProtocol protocol) {
        try {
            stub(gtrid, callTimeoutMillis)
                    .begin(BeginRequest.newBuilder().setGtrid(gtrid).setName(name).setTimeoutMs(timeoutMillis)
                            .setProtocol(wire(protocol)).build());
        } catch (StatusRuntimeException e) {
            throw translate("Begin", gtrid, e, callTimeoutMillis);
        }
    }

    @Override
    public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
        try {
            stub(gtrid, callTimeoutMillis)
                    .registerBranch(RegisterBranchRequest.newBuilder().setGtrid(gtrid).setBqual(bqual)
                            .setResourceId(resourceId).setAgentId(agentId).setAgentSecret(agentSecret).build());
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                throw new BranchRefusedException(routes.describeRoute(gtrid) + " refused RegisterBranch for global transaction " + gtrid + ": "
                        + e.getStatus().getDescription(), e);
            }
            throw translate("RegisterBranch", gtrid, e, callTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport commit(String gtrid, boolean waitForCompletion) {
        if (routes.channelFor(gtrid).isEmpty()) {
            // Nothing leaves, so nothing is decided: the owner aborts what it holds for an agent whose stream
            // broke, or at the deadline (presumed abort). Not "unknown", which would send the operator looking.
            throw new TmSystemException("Global transaction " + gtrid + " was not committed: there is no open stream to "
                    + routes.describeRoute(gtrid) + ", the only server that may decide it, so the commit request was not sent."
                    + " That server rolls it back.");
        }
        long started = System.nanoTime();
        try {
            return report(stub(gtrid, commitTimeoutMillis)
                    .commit(CommitRequest.newBuilder().setGtrid(gtrid).setWaitForCompletion(waitForCompletion).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                // presumed abort: the coordinator never heard of it or lost it before a decision
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, e.getStatus().getDescription());
            }
            if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                return refusedBeforeDecision(gtrid, e);
            }
            if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
                throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + routes.describeRoute(gtrid)
                        + " " + CallFailure.whatHappened("commit request", e.getStatus(), millisSince(started), commitTimeoutMillis)
                        + ". The coordinator decides and finishes it; ask it with GetStatus or its admin API.", e);
            }
            throw translate("Commit", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport commitPrepared(String gtrid, String name, long timeoutMillis, String agentId, List<PreparedBranch> branches) {
        // On the agent's stream the stream names the agent; the Commit call names it and proves it with the secret.
        CommitRequest.Builder request = CommitRequest.newBuilder().setGtrid(gtrid).setName(name).setTimeoutMs(timeoutMillis);
        for (PreparedBranch b : branches) {
            request.addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual(b.bqual()).setResourceId(b.resourceId())
                    .setVote(b.vote() == PreparedBranch.Vote.YES ? BranchVote.YES : BranchVote.READ_ONLY));
        }
        if (routes.channelFor(gtrid).isEmpty()) {
            // The gtrid never left this process and this request is not sent: no server can have decided it, so
            // the caller rolls its branches back now instead of asking about them until the owner is back.
            return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "not sent: there is no open stream to " + routes.describeRoute(gtrid)
                    + ", the only server that may decide it; no server knows the transaction (presumed abort)");
        }
        long started = System.nanoTime();
        CompletableFuture<CommitAnswer> onStream = streams == null ? null : streams.commit(request.build());
        if (onStream != null) {
            return awaitAnswer(gtrid, onStream, started);
        }
        try {
            return report(stub(gtrid, commitTimeoutMillis).commit(request.setAgentId(agentId).setAgentSecret(agentSecret).build()));
        } catch (StatusRuntimeException e) {
            return notCommitted(gtrid, e, started);
        }
    }

    /** The answer to a commit request sent on the agent's stream, read as the Commit call's would be. */
    private OutcomeReport awaitAnswer(String gtrid, CompletableFuture<CommitAnswer> pending, long started) {
        CommitAnswer answer;
        try {
            answer = pending.get(commitTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            streams.abandon(gtrid);
            return notCommitted(gtrid, Status.DEADLINE_EXCEEDED.withDescription("no answer on the agent's stream").asRuntimeException(),
                    started);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            streams.abandon(gtrid);
            throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: the calling thread was interrupted"
                    + " while it waited for " + routes.describeRoute(gtrid) + " to answer the commit request. Its branches stay"
                    + " prepared; the agent asks the coordinator for the outcome and applies it.", e);
        } catch (ExecutionException e) {
            if (streams.lostBeforeSending(e.getCause())) {
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "not sent: the stream to " + routes.describeRoute(gtrid)
                        + " closed first; no server knows the transaction (presumed abort)");
            }
            return notCommitted(gtrid, Status.UNAVAILABLE.withDescription(e.getCause().getMessage()).asRuntimeException(), started);
        }
        if (answer.hasOutcome()) {
            return report(answer.getOutcome());
        }
        return notCommitted(gtrid, statusOf(answer).asRuntimeException(), started);
    }

    /** A refusal carried in a CommitAnswer, as the status the Commit call would have failed with. */
    private static Status statusOf(CommitAnswer answer) {
        Status.Code code;
        try {
            code = Status.Code.valueOf(answer.getRefusedCode());
        } catch (IllegalArgumentException unknownCode) {
            code = Status.Code.UNKNOWN;
        }
        return Status.fromCode(code).withDescription(answer.getRefusedMessage());
    }

    /** A commit request with votes that failed: refused before any decision, or with an outcome we cannot know. */
    private OutcomeReport notCommitted(String gtrid, StatusRuntimeException e, long started) {
        // PERMISSION_DENIED: another process holds our agent id's stream; refused before anything was decided.
        if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION || e.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
            return refusedBeforeDecision(gtrid, e);
        }
        if (e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED || e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
            throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + routes.describeRoute(gtrid)
                    + " " + CallFailure.whatHappened("commit request", e.getStatus(), millisSince(started), commitTimeoutMillis)
                    + ". Its branches stay prepared; the agent asks the coordinator for the outcome and applies it.", e);
        }
        throw translate("Commit", gtrid, e, commitTimeoutMillis);
    }

    @Override
    public HeldCanCommit canCommitHeld(String gtrid, String name, long timeoutMillis, String agentId, List<PreparedBranch> answers) {
        if (routes.channelFor(gtrid).isEmpty()) {
            // Not sent, so nothing is known anywhere: the caller commits the strict way, which says why it cannot.
            return HeldCanCommit.refused("not sent: there is no open stream to " + routes.describeRoute(gtrid));
        }
        CommitRequest request = heldRequest(gtrid, agentId, answers).setName(name).setTimeoutMs(timeoutMillis).build();
        long started = System.nanoTime();
        try {
            CanCommitHeldResponse r = stub(gtrid, commitTimeoutMillis).canCommitHeld(request);
            return r.getPreCommit() ? HeldCanCommit.preCommit(r.getParticipantPreCommitTimeoutMs())
                    : HeldCanCommit.decided(report(OutcomeResponse.newBuilder().setOutcome(r.getOutcome()).setDetail(r.getDetail()).build()));
        } catch (StatusRuntimeException e) {
            // UNIMPLEMENTED: a server from before this call. FAILED_PRECONDITION, INVALID_ARGUMENT: refused before anything
            // was decided. PERMISSION_DENIED: another process holds our agent id's stream. Either way nothing is known there.
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNIMPLEMENTED || code == Status.Code.FAILED_PRECONDITION || code == Status.Code.INVALID_ARGUMENT
                    || code == Status.Code.PERMISSION_DENIED) {
                return HeldCanCommit.refused(routes.describeRoute(gtrid) + " refused it: " + code + " " + e.getStatus().getDescription());
            }
            if (code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.UNAVAILABLE) {
                throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + routes.describeRoute(gtrid)
                        + " " + CallFailure.whatHappened("three-phase commit request", e.getStatus(), millisSince(started),
                        commitTimeoutMillis) + ". Its branches answered CAN_COMMIT: they roll back by their participant timer"
                        + " unless the coordinator sends them PRE_COMMIT or ROLLBACK first.", e);
            }
            throw translate("CanCommitHeld", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public OutcomeReport preCommitHeld(String gtrid, String agentId, List<PreparedBranch> answers) {
        long started = System.nanoTime();
        try {
            return report(stub(gtrid, commitTimeoutMillis).preCommitHeld(heldRequest(gtrid, agentId, answers).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                // It knew the transaction (it answered the first request): it was rolled back and forgotten since.
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, e.getStatus().getDescription());
            }
            // Anything else: the branches are prepared and the decision is not ours to know; the agent asks.
            throw new TmSystemException("Outcome of global transaction " + gtrid + " is unknown: " + routes.describeRoute(gtrid)
                    + " " + CallFailure.whatHappened("PRE_COMMIT answers", e.getStatus(), millisSince(started), commitTimeoutMillis)
                    + ". Its branches stay prepared; the agent asks the coordinator for the outcome and applies it (or commits them"
                    + " on its own after the participant timeout, three-phase commit's rule).", e);
        }
    }

    /** The request both calls of the cheap three-phase commit send: the branches' answers for our own agent. */
    private CommitRequest.Builder heldRequest(String gtrid, String agentId, List<PreparedBranch> answers) {
        CommitRequest.Builder request = CommitRequest.newBuilder().setGtrid(gtrid).setAgentId(agentId).setAgentSecret(agentSecret);
        for (PreparedBranch b : answers) {
            request.addPrepared(dev.xatm.protocol.v1.PreparedBranch.newBuilder().setBqual(b.bqual()).setResourceId(b.resourceId())
                    .setVote(switch (b.vote()) {
                        case YES -> BranchVote.YES;
                        case READ_ONLY -> BranchVote.READ_ONLY;
                        case NO -> BranchVote.NO;
                    }));
        }
        return request;
    }

    @Override
    public OutcomeReport rollback(String gtrid) {
        try {
            return report(stub(gtrid, commitTimeoutMillis)
                    .rollback(RollbackRequest.newBuilder().setGtrid(gtrid).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return new OutcomeReport(GlobalOutcome.ROLLED_BACK, e.getStatus().getDescription());
            }
            throw translate("Rollback", gtrid, e, commitTimeoutMillis);
        }
    }

    @Override
    public TxnStatus status(String gtrid) {
        try {
            return TxnStatus.of(stub(gtrid, callTimeoutMillis)
                    .getStatus(GetStatusRequest.newBuilder().setGtrid(gtrid).build()).getStatus());
        } catch (StatusRuntimeException e) {
            throw translate("GetStatus", gtrid, e, callTimeoutMillis);
        }
    }

    /**
     * A commit refused with FAILED_PRECONDITION: a server that does not own the gtrid (its owner
     * restarted as a new incarnation, whose earlier undecided work is presumed aborted), or a commit
     * with votes for a three-phase transaction. Either way this request decided nothing: the caller
     * rolls back, as after any refused commit before the decision.
     */
    private OutcomeReport refusedBeforeDecision(String gtrid, StatusRuntimeException e) {
        return new OutcomeReport(GlobalOutcome.ROLLED_BACK, routes.describeRoute(gtrid) + " refused to decide it: "
                + e.getStatus().getDescription());
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

    private static long millisSince(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }

    private RuntimeException translate(String call, String gtrid, StatusRuntimeException e, long deadlineMillis) {
        Status s = e.getStatus();
        String what = call + " for global transaction " + gtrid;
        String description = routes.describeRoute(gtrid);
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
