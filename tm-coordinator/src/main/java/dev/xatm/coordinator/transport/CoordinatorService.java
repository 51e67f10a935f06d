package dev.xatm.coordinator.transport;

import dev.xatm.core.Branch;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Reply;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.XidMdc;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BeginResponse;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PreparedBranch;
import dev.xatm.protocol.v1.CanCommitHeldResponse;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RegisterBranchResponse;
import dev.xatm.protocol.v1.RollbackRequest;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.StatusResponse;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.Member;
import dev.xatm.protocol.v1.MembersRequest;
import dev.xatm.protocol.v1.MembersResponse;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.ResumeResponse;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.cluster.Ownership;
import dev.xatm.coordinator.engine.AgentRefusals;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.transport.CallAnswers.CallName;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import static dev.xatm.coordinator.transport.CallAnswers.answer;
import static dev.xatm.coordinator.transport.CallAnswers.call;
import static dev.xatm.coordinator.transport.CallAnswers.fail;
import static dev.xatm.coordinator.transport.CallAnswers.forgetOnCancel;
import static dev.xatm.coordinator.transport.CallAnswers.outcome;
import static dev.xatm.coordinator.transport.CallAnswers.peer;
import static dev.xatm.coordinator.transport.CallAnswers.refuse;

/**
 * The gRPC {@code Coordinator} service: protobuf in, core events into the {@link CoordinatorLoop},
 * replies back out. Malformed input is answered with INVALID_ARGUMENT here and never reaches the
 * core; the core's own refusals map one to one onto gRPC codes. Every refusal is logged once at
 * INFO with the caller's address (no tokens ever reach this class).
 *
 * <p>On a shared store (several servers, docs/ha.md) a gtrid belongs to the server incarnation its
 * owner tag names: Begin, RegisterBranch, Commit and Rollback for any other gtrid are refused with
 * FAILED_PRECONDITION before they reach the loop ({@link Ownership}); GetStatus, Inquiry and Resume
 * about them are answered from the store by rule R4 ({@link Cluster#verdicts}, in {@link ClusterCalls}).
 * How a reply or a refusal is written to the call is {@link CallAnswers}'.
 *
 * <p>Handlers never block: they queue a request and return; the answer is written when the loop
 * completes it. A commit waits server-side until decided; the caller's deadline bounds that wait,
 * and a cancelled call forgets its waiter.
 */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);

    /** Branches one Resume may ask about. */
    static final int RESUME_MAX = 1_000;

    private final CoordinatorLoop loop;
    private final AgentRegistry registry;
    private final String serverId;
    private final long defaultTimeoutMillis;
    private final long maxTimeoutMillis;
    private final Cluster cluster;
    private final Ownership ownership;
    private final ClusterId clusterId;
    /** Members, Resume and GetStatus of another server's gtrid: the calls the store answers. */
    private final ClusterCalls clusterCalls;

    /** @param clusterId the deployment's cluster id, sent in Welcome; gtrids naming another are refused (null: none are) */
    public CoordinatorService(CoordinatorLoop loop, AgentRegistry registry, String serverId,
                              long defaultTimeoutMillis, long maxTimeoutMillis, Cluster cluster, ClusterId clusterId) {
        this.clusterId = clusterId;
        this.loop = loop;
        this.registry = registry;
        this.serverId = serverId;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
        this.maxTimeoutMillis = maxTimeoutMillis;
        this.cluster = cluster;
        this.ownership = new Ownership(cluster, clusterId);
        this.clusterCalls = new ClusterCalls(cluster, ownership);
    }

    @Override
    public void begin(BeginRequest request, StreamObserver<BeginResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("Begin request");
            handleBegin(request, out);
        }
    }

    private void handleBegin(BeginRequest request, StreamObserver<BeginResponse> out) {
        long timeoutMillis;
        dev.xatm.core.Protocol protocol;
        try {
            Ids.requireGtrid(request.getGtrid());
            checkName(request.getName());
            timeoutMillis = timeoutMillis(request.getTimeoutMs());
            protocol = Protos.protocol(request.getProtocol());
        } catch (IllegalArgumentException e) {
            refuse(out, call("Begin"), Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        if (!owned(request.getGtrid(), call("Begin"), out)) {
            return;
        }
        answer(out, call("Begin"), loop.begin(request.getGtrid(), request.getName(), timeoutMillis, protocol), reply ->
                reply instanceof Reply.Begun begun
                        ? BeginResponse.newBuilder().setDeadlineEpochMs(loop.toEpochMillis(begun.deadlineMillis())).build()
                        : null);
    }

    @Override
    public void registerBranch(RegisterBranchRequest request, StreamObserver<RegisterBranchResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("RegisterBranch request");
            handleRegisterBranch(request, out);
        }
    }

    private void handleRegisterBranch(RegisterBranchRequest request, StreamObserver<RegisterBranchResponse> out) {
        Event.RegisterBranch event;
        try {
            Ids.requireGtrid(request.getGtrid());
            event = new Event.RegisterBranch(request.getGtrid(), branch(request));
        } catch (IllegalArgumentException e) {
            refuse(out, call("RegisterBranch"), Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        if (!owned(request.getGtrid(), call("RegisterBranch"), out)) {
            return;
        }
        // Without a live stream the core refuses the branch anyway (FAILED_PRECONDITION), as before.
        if (registry.prove(request.getAgentId(), request.getAgentSecret()) == AgentRegistry.Proof.OTHER_INSTANCE) {
            loop.agentRefusals().record(AgentRefusals.Kind.REGISTER);
            refuse(out, call("RegisterBranch"), Status.PERMISSION_DENIED.withDescription(notThatAgent(request.getAgentId())));
            return;
        }
        answer(out, call("RegisterBranch"), loop.registerBranch(event), reply ->
                reply instanceof Reply.Registered ? RegisterBranchResponse.getDefaultInstance() : null);
    }

    @Override
    public void commit(CommitRequest request, StreamObserver<OutcomeResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("Commit request");
            handleCommit(request, out);
        }
    }

    private void handleCommit(CommitRequest request, StreamObserver<OutcomeResponse> out) {
        handleCommit(request, out, null);
    }

    /**
     * A commit request that came on an agent's Connect stream (CommitBatch), answered through
     * {@code out} as the Commit call would be. Its votes ride for {@code streamAgent}, the stream's own
     * agent, which proved its instance secret in Hello: the request's agent_id and agent_secret are not
     * read.
     */
    void commitFromStream(CommitRequest request, String streamAgent, StreamObserver<OutcomeResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            handleCommit(request, out, streamAgent);
        }
    }

    /** @param streamAgent the agent of the Connect stream the request came on, or null for the Commit call */
    private void handleCommit(CommitRequest request, StreamObserver<OutcomeResponse> out, String streamAgent) {
        CallName call = call("Commit");
        if (!validGtrid(request.getGtrid(), call, out)) {
            return;
        }
        if (request.getPreparedCount() == 0) {
            // a plain commit creates nothing: a repeated one for a gtrid held here from before a restart is answered
            Consumer<CompletableFuture<Reply>> onCancel = forgetOnCancel(out);
            ifHeldHere(request.getGtrid(), call, out, () -> {
                CompletableFuture<Reply> reply = loop.commit(request.getGtrid(), request.getWaitForCompletion());
                onCancel.accept(reply);
                answer(out, call, reply, CallAnswers::outcome);
            });
            return;
        }
        String agentId = streamAgent != null ? streamAgent : request.getAgentId();
        List<Event.Voted> voted;
        long timeoutMillis;
        try {
            if (request.getWaitForCompletion()) {
                throw new IllegalArgumentException("a commit with prepared branches cannot wait for completion: the caller's"
                        + " agent completes its own branches after the answer");
            }
            checkName(request.getName());
            timeoutMillis = timeoutMillis(request.getTimeoutMs());
            voted = voted(request, agentId);
        } catch (IllegalArgumentException e) {
            refuse(out, call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        if (!owned(request.getGtrid(), call, out)) {
            return; // with votes it would start the transaction: only its owner may
        }
        // The votes ride for the caller's own agent only: any holder of the client token could otherwise
        // vote YES for branches of another service's agent that never prepared.
        // A request on the agent's stream is proven by the stream's Hello.
        if (streamAgent == null && !provenHolder(request, call, out)) {
            return;
        }
        CompletableFuture<Reply> reply = loop.commitPrepared(request.getGtrid(), request.getName(), timeoutMillis,
                agentId, voted);
        forgetOnCancel(out).accept(reply);
        answer(out, call, reply, CallAnswers::outcome);
    }

    @Override
    public void canCommitHeld(CommitRequest request, StreamObserver<CanCommitHeldResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("CanCommitHeld request");
            handleCanCommitHeld(request, out);
        }
    }

    /** The cheap 3PC's first request: as a commit with prepared branches, but the votes are CAN_COMMIT answers. */
    private void handleCanCommitHeld(CommitRequest request, StreamObserver<CanCommitHeldResponse> out) {
        CallName call = call("CanCommitHeld");
        List<Event.Voted> answers = heldAnswers(request, call, out, true);
        if (answers == null || !owned(request.getGtrid(), call, out) || !provenHolder(request, call, out)) {
            return; // refused: with answers it would start the transaction, which only its owner may, for its own agent
        }
        CompletableFuture<Reply> reply = loop.canCommitHeld(request.getGtrid(), request.getName(),
                timeoutMillis(request.getTimeoutMs()), request.getAgentId(), answers);
        forgetOnCancel(out).accept(reply);
        answer(out, call, reply, CoordinatorService::canCommitHeldResponse);
    }

    /** "pre-commit" (the PRE_COMMIT record is durable), or the outcome; null for a rejection. */
    private static CanCommitHeldResponse canCommitHeldResponse(Reply reply) {
        if (reply instanceof Reply.PreCommitted p) {
            return CanCommitHeldResponse.newBuilder().setPreCommit(true).setParticipantPreCommitTimeoutMs(p.participantPreCommitMillis())
                    .build();
        }
        OutcomeResponse decided = outcome(reply);
        return decided == null ? null : CanCommitHeldResponse.newBuilder().setOutcome(decided.getOutcome()).setDetail(decided.getDetail())
                .build();
    }

    @Override
    public void preCommitHeld(CommitRequest request, StreamObserver<OutcomeResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("PreCommitHeld request");
            handlePreCommitHeld(request, out);
        }
    }

    /** The cheap 3PC's second request: the holder's PRE_COMMIT answers; answered with the decision. */
    private void handlePreCommitHeld(CommitRequest request, StreamObserver<OutcomeResponse> out) {
        CallName call = call("PreCommitHeld");
        List<Event.Voted> answers = heldAnswers(request, call, out, false);
        if (answers == null || !provenHolder(request, call, out)) {
            return;
        }
        Consumer<CompletableFuture<Reply>> onCancel = forgetOnCancel(out);
        ifHeldHere(request.getGtrid(), call, out, () -> {
            CompletableFuture<Reply> reply = loop.preCommitHeld(request.getGtrid(), request.getAgentId(), answers);
            onCancel.accept(reply);
            answer(out, call, reply, CallAnswers::outcome);
        });
    }

    /** The answers of a CanCommitHeld or PreCommitHeld request, or null after refusing it as malformed. */
    private <T> List<Event.Voted> heldAnswers(CommitRequest request, CallName call, StreamObserver<T> out, boolean starts) {
        if (!validGtrid(request.getGtrid(), call, out)) {
            return null;
        }
        try {
            if (request.getWaitForCompletion() || request.getPreparedCount() == 0) {
                throw new IllegalArgumentException("the branches' answers are required, and the caller's agent completes its own"
                        + " branches (no wait_for_completion)");
            }
            if (starts) {
                checkName(request.getName());
                timeoutMillis(request.getTimeoutMs());
            }
            return voted(request, request.getAgentId());
        } catch (IllegalArgumentException e) {
            refuse(out, call, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return null;
        }
    }

    /** Whether the request comes from the process of the agent it names (its answers ride for that agent only); refuses if not. */
    private <T> boolean provenHolder(CommitRequest request, CallName call, StreamObserver<T> out) {
        switch (registry.prove(request.getAgentId(), request.getAgentSecret())) {
            case PROVEN -> {
                return true;
            }
            case NO_STREAM -> {
                refuse(out, call, Status.FAILED_PRECONDITION.withDescription("agent " + Ids.quote(request.getAgentId())
                        + " has no open stream to this server, so its branches could not be driven to the end; nothing was"
                        + " decided, roll them back"));
                return false;
            }
            default -> {
                loop.agentRefusals().record(AgentRefusals.Kind.COMMIT);
                refuse(out, call, Status.PERMISSION_DENIED.withDescription(notThatAgent(request.getAgentId())));
                return false;
            }
        }
    }

    @Override
    public void rollback(RollbackRequest request, StreamObserver<OutcomeResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("Rollback request");
            handleRollback(request, out);
        }
    }

    private void handleRollback(RollbackRequest request, StreamObserver<OutcomeResponse> out) {
        CallName call = call("Rollback");
        if (!validGtrid(request.getGtrid(), call, out)) {
            return;
        }
        Consumer<CompletableFuture<Reply>> onCancel = forgetOnCancel(out);
        ifHeldHere(request.getGtrid(), call, out, () -> {
            CompletableFuture<Reply> reply = loop.rollback(request.getGtrid());
            onCancel.accept(reply);
            answer(out, call, reply, CallAnswers::outcome);
        });
    }

    /**
     * Runs {@code then} for a gtrid this incarnation owns, or one it holds although another owner's (an
     * earlier incarnation's, replayed after a restart, or a dead node's it adopted); refuses the call
     * for any other. Only for requests that cannot start a transaction.
     */
    private <T> void ifHeldHere(String gtrid, CallName call, StreamObserver<T> out, Runnable then) {
        String refusal = ownership.refusal(gtrid);
        if (refusal == null) {
            then.run();
            return;
        }
        if (!ownership.clustered() || ownership.foreign(gtrid)) {
            refuse(out, call, Status.FAILED_PRECONDITION.withDescription(refusal));
            return;
        }
        loop.status(gtrid).whenComplete((status, error) -> {
            if (error == null && status != dev.xatm.core.TxnStatus.UNKNOWN) {
                then.run();
            } else {
                refuse(out, call, Status.FAILED_PRECONDITION.withDescription(refusal));
            }
        });
    }

    @Override
    public void getStatus(GetStatusRequest request, StreamObserver<StatusResponse> out) {
        try (XidMdc.Scope mdc = XidMdc.put(request.getGtrid())) {
            log.debug("GetStatus request");
            handleGetStatus(request, out);
        }
    }

    private void handleGetStatus(GetStatusRequest request, StreamObserver<StatusResponse> out) {
        CallName call = call("GetStatus");
        if (!validGtrid(request.getGtrid(), call, out)) {
            return;
        }
        if (ownership.foreign(request.getGtrid())) {
            // another deployment's: UNKNOWN would read as "presumed aborted"
            refuse(out, call, Status.FAILED_PRECONDITION.withDescription(ownership.notMine(request.getGtrid())));
            return;
        }
        boolean foreign = ownership.clustered() && !ownership.owns(request.getGtrid());
        if (!foreign && !owned(request.getGtrid(), call, out)) {
            return;
        }
        loop.status(request.getGtrid()).whenComplete((status, error) -> {
            if (error != null) {
                fail(out, call, error);
            } else if (foreign && status == dev.xatm.core.TxnStatus.UNKNOWN) {
                clusterCalls.foreignStatus(request.getGtrid(), call, out); // not held here (adopted or replayed ones are)
            } else {
                out.onNext(StatusResponse.newBuilder().setStatus(Protos.status(status)).build());
                out.onCompleted();
            }
        });
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<ServerMessage> out) {
        return new AgentSession((ServerCallStreamObserver<ServerMessage>) out, loop, registry, serverId, peer(), cluster, clusterId,
                this);
    }

    @Override
    public void members(MembersRequest request, StreamObserver<MembersResponse> out) {
        clusterCalls.members(out);
    }

    static List<Member> members(Cluster cluster) {
        return ClusterCalls.members(cluster);
    }

    /** Rule R4 for each asked branch ({@link ClusterCalls#resume}). */
    @Override
    public void resume(ResumeRequest request, StreamObserver<ResumeResponse> out) {
        clusterCalls.resume(request, out);
    }

    /** Whether this server decides {@code gtrid}; refuses the call with FAILED_PRECONDITION when not. */
    private <T> boolean owned(String gtrid, CallName call, StreamObserver<T> out) {
        String refusal = ownership.refusal(gtrid);
        if (refusal == null) {
            return true;
        }
        refuse(out, call, Status.FAILED_PRECONDITION.withDescription(refusal));
        return false;
    }

    // ---------------------------------------------------------------- helpers

    private static String notThatAgent(String agentId) {
        return "agent " + Ids.quote(agentId) + " has a live stream opened with another instance secret: a call may only name"
                + " its own process's agent";
    }

    /** timeout_ms 0 means the server default; anything else must be within 1..max-timeout-ms. */
    private long timeoutMillis(long requested) {
        if (requested == 0) {
            return defaultTimeoutMillis;
        }
        if (requested < 0 || requested > maxTimeoutMillis) {
            throw new IllegalArgumentException("timeout_ms must be 1.." + maxTimeoutMillis + " (or 0 for the server default of "
                    + defaultTimeoutMillis + "), got " + requested);
        }
        return requested;
    }

    /** The name is optional and free text, but bounded and without control characters: it ends up in logs. */
    private static void checkName(String name) {
        if (name.length() > Ids.MAX_NAME_CHARS || name.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("name must be at most " + Ids.MAX_NAME_CHARS
                    + " characters without control characters, got " + Ids.quote(name));
        }
    }

    private static List<Event.Voted> voted(CommitRequest r, String agentId) {
        List<Event.Voted> voted = new ArrayList<>(r.getPreparedCount());
        for (PreparedBranch p : r.getPreparedList()) {
            if (p.getVote() != BranchVote.YES && p.getVote() != BranchVote.NO && p.getVote() != BranchVote.READ_ONLY) {
                throw new IllegalArgumentException("prepared branch " + Ids.quote(p.getBqual()) + " has no vote");
            }
            // Branch's constructor checks bqual, resource_id and agent_id; its messages name the field
            voted.add(new Event.Voted(new Branch(p.getBqual(), p.getResourceId(), agentId), Protos.vote(p.getVote())));
        }
        return voted;
    }

    private static Branch branch(RegisterBranchRequest r) {
        // Branch's constructor checks bqual, resource_id and agent_id; its messages name the field
        return new Branch(r.getBqual(), r.getResourceId(), r.getAgentId());
    }

    private <T> boolean validGtrid(String gtrid, CallName call, StreamObserver<T> out) {
        if (Ids.isValidId(gtrid)) {
            return true;
        }
        refuse(out, call, Status.INVALID_ARGUMENT.withDescription(
                "gtrid must be 1.." + Ids.MAX_ID_BYTES + " characters of [A-Za-z0-9._:-], got " + Ids.quote(gtrid)));
        return false;
    }
}
