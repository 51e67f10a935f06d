package dev.xatm.client.agent;

import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BeginResponse;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Member;
import dev.xatm.protocol.v1.MembersRequest;
import dev.xatm.protocol.v1.MembersResponse;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.ResumeAnswer;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.ResumeResponse;
import dev.xatm.protocol.v1.Verdict;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ProtocolError;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.protocol.v1.RegisterBranchResponse;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.StatusResponse;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.protocol.v1.Welcome;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted coordinator on the in-process transport, for the agent and enlistment tests: it
 * records what the client sends and the test decides what it answers. Like the real one it refuses
 * RegisterBranch with FAILED_PRECONDITION until the agent's stream was welcomed, and like the real
 * AgentSession it drops a phase command when the agent's stream is not ready.
 *
 * <p>As one of several servers on a shared store it has a node id and an epoch (in its Welcome), the
 * members it announces (Welcome and Members), and answers Resume with the verdicts the test sets
 * (ASK_OWNER unless told otherwise). Commit requests are recorded and answered COMMITTED, or with
 * the status the test sets.
 */
final class FakeCoordinatorServer extends CoordinatorGrpc.CoordinatorImplBase implements AutoCloseable {
    static final String TOKEN = "fake-token-0123456789";

    final BlockingQueue<AgentMessage> fromAgent = new LinkedBlockingQueue<>();
    final List<RegisterBranchRequest> registrations = new CopyOnWriteArrayList<>();
    final AtomicInteger statusCalls = new AtomicInteger();
    final AtomicInteger droppedCommands = new AtomicInteger();
    /** Registrations still to refuse although the agent is welcomed (the coordinator had not recorded the stream yet). */
    final AtomicInteger refuseRegistrations = new AtomicInteger();

    final List<CommitRequest> commits = new CopyOnWriteArrayList<>();
    final List<ResumeRequest> resumes = new CopyOnWriteArrayList<>();
    /** Resume verdicts by gtrid; ASK_OWNER for any other. */
    final Map<String, Verdict> verdicts = new ConcurrentHashMap<>();
    /** Streams the agent opened (each Hello), and closed itself. */
    final AtomicInteger hellos = new AtomicInteger();
    final AtomicInteger closedByAgent = new AtomicInteger();
    /** Non-null: every Commit fails with it. */
    volatile Status commitFailure;
    /** Takes commit requests and never answers them, like a frozen server. */
    volatile boolean holdCommits;
    /** Announced in the Welcome and by Members. */
    volatile List<Member> members = List.of();
    /** Said in the Welcome: commit requests may come on the stream (CommitBatch), as tm-server takes them. */
    volatile boolean commitsOnStream;
    /** The sizes of the CommitBatch messages that came on the stream; their requests are in {@link #commits} too. */
    final List<Integer> streamBatches = new CopyOnWriteArrayList<>();

    private final String name = "fake-coordinator-" + System.nanoTime();
    private final int nodeId;
    private final long epoch;
    private final Server server;
    private volatile boolean holdWelcome;
    private volatile boolean welcomed;
    private volatile ServerCallStreamObserver<ServerMessage> agentStream;

    FakeCoordinatorServer(boolean holdWelcome) throws IOException {
        this(holdWelcome, 0, 0);
    }

    /** One of several servers on a shared store: node {@code nodeId}, incarnation {@code epoch}. */
    FakeCoordinatorServer(boolean holdWelcome, int nodeId, long epoch) throws IOException {
        this.holdWelcome = holdWelcome;
        this.nodeId = nodeId;
        this.epoch = epoch;
        this.server = InProcessServerBuilder.forName(name).addService(this).build().start();
    }

    CoordinatorChannel channel() {
        return channel(name);
    }

    /** A channel to the in-process server {@code name} (the "address" fakes announce each other by). */
    static CoordinatorChannel channel(String name) {
        return CoordinatorChannel.inProcess(name, TOKEN, "fake coordinator " + name);
    }

    /** Its in-process name, which stands for its address. */
    String name() {
        return name;
    }

    /** How other servers announce this one. */
    Member member() {
        return Member.newBuilder().setNodeId(nodeId).setEpoch(epoch).setAddress(name).build();
    }

    /** The Inquiries the agent sent, from what it sent so far (others are dropped). */
    List<Inquiry> inquiries(long millis) throws InterruptedException {
        List<Inquiry> out = new java.util.ArrayList<>();
        long until = System.currentTimeMillis() + millis;
        for (AgentMessage m = poll(millis); m != null; m = poll(Math.max(1, until - System.currentTimeMillis()))) {
            if (m.hasInquiry()) {
                out.add(m.getInquiry());
            }
            if (System.currentTimeMillis() >= until) {
                break;
            }
        }
        return out;
    }

    /** Holds back the Welcome of the next stream until {@link #releaseWelcome()} (the server is not up yet). */
    synchronized void holdWelcome() {
        holdWelcome = true;
    }

    /** Sends the Welcome that was held back. */
    synchronized void releaseWelcome() {
        holdWelcome = false;
        if (agentStream != null && !welcomed) {
            welcome();
        }
    }

    private synchronized void welcome() {
        // Recorded before the Welcome leaves, as tm-server does: a registration that follows the
        // Welcome is never refused for it.
        welcomed = true;
        send(ServerMessage.newBuilder().setWelcome(Welcome.newBuilder().setServerId("fake-" + nodeId).setNodeId(nodeId)
                .setEpoch(epoch).addAllMembers(members).setCommitsOnStream(commitsOnStream)).build());
    }

    /** A phase command, dropped (and counted) when the stream is not ready, as tm-server's AgentSession does. */
    void command(String gtrid, String bqual, PhaseAction action) {
        command(gtrid, bqual, action, 0);
    }

    /** A phase command with a 3PC participant timeout (CAN_COMMIT, PRE_COMMIT). */
    void command(String gtrid, String bqual, PhaseAction action, long participantTimeoutMs) {
        ServerCallStreamObserver<ServerMessage> s = agentStream;
        if (!s.isReady()) {
            droppedCommands.incrementAndGet();
            return;
        }
        send(ServerMessage.newBuilder().setCommand(PhaseCommand.newBuilder().setGtrid(gtrid).setBqual(bqual).setAction(action)
                .setParticipantTimeoutMs(participantTimeoutMs)).build());
    }

    /**
     * Breaks the agent's stream, as a coordinator crash does; with {@code holdWelcome} the agent's
     * reconnect is not welcomed until {@link #releaseWelcome()} (the coordinator is still "down").
     */
    synchronized void breakStream(boolean holdWelcome) {
        this.holdWelcome = holdWelcome;
        welcomed = false;
        ServerCallStreamObserver<ServerMessage> s = agentStream;
        agentStream = null;
        s.onError(Status.UNAVAILABLE.withDescription("fake coordinator crashed").asRuntimeException());
    }

    /** The next message the agent sent within {@code millis}, or null. */
    AgentMessage poll(long millis) throws InterruptedException {
        return fromAgent.poll(millis, TimeUnit.MILLISECONDS);
    }

    void error(String code, String message) {
        send(ServerMessage.newBuilder().setError(ProtocolError.newBuilder().setCode(code).setMessage(message)).build());
    }

    private synchronized void send(ServerMessage m) {
        agentStream.onNext(m);
    }

    /** The next message the agent sent after its Hello, within 10 s. */
    AgentMessage next() throws InterruptedException {
        AgentMessage m = fromAgent.poll(10, TimeUnit.SECONDS);
        if (m == null) {
            throw new AssertionError("no message from the agent within 10 s");
        }
        return m;
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<ServerMessage> out) {
        ServerCallStreamObserver<ServerMessage> stream = (ServerCallStreamObserver<ServerMessage>) out;
        stream.setOnCancelHandler(() -> {});
        return new StreamObserver<>() {
            @Override
            public void onNext(AgentMessage m) {
                if (m.hasHello()) {
                    hellos.incrementAndGet();
                    synchronized (FakeCoordinatorServer.this) {
                        agentStream = stream;
                        if (!holdWelcome) {
                            welcome();
                        }
                    }
                    return;
                }
                if (m.hasCommits()) {
                    streamBatches.add(m.getCommits().getRequestsCount());
                    m.getCommits().getRequestsList().forEach(FakeCoordinatorServer.this::commitOnStream);
                    return;
                }
                fromAgent.add(m);
            }

            @Override
            public void onError(Throwable t) {
                welcomed = false;
            }

            @Override
            public void onCompleted() {
                welcomed = false;
                closedByAgent.incrementAndGet();
                stream.onCompleted();
            }
        };
    }

    @Override
    public void begin(BeginRequest request, StreamObserver<BeginResponse> out) {
        out.onNext(BeginResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void registerBranch(RegisterBranchRequest request, StreamObserver<RegisterBranchResponse> out) {
        registrations.add(request);
        if (!welcomed || refuseRegistrations.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("agent " + request.getAgentId() + " has no open stream").asRuntimeException());
            return;
        }
        out.onNext(RegisterBranchResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public void getStatus(GetStatusRequest request, StreamObserver<StatusResponse> out) {
        statusCalls.incrementAndGet();
        out.onNext(StatusResponse.newBuilder().setStatus(TxnStatus.ACTIVE).build());
        out.onCompleted();
    }

    @Override
    public void commit(CommitRequest request, StreamObserver<OutcomeResponse> out) {
        commits.add(request);
        if (holdCommits) {
            return;
        }
        Status failure = commitFailure;
        if (failure != null) {
            out.onError(failure.asRuntimeException());
            return;
        }
        out.onNext(OutcomeResponse.newBuilder().setOutcome(Outcome.COMMITTED).build());
        out.onCompleted();
    }

    /** As {@link #commit}, answered with a CommitAnswer on the agent's stream. */
    private void commitOnStream(CommitRequest request) {
        commits.add(request);
        if (holdCommits) {
            return;
        }
        Status failure = commitFailure;
        CommitAnswer.Builder answer = CommitAnswer.newBuilder().setGtrid(request.getGtrid());
        if (failure != null) {
            answer.setRefusedCode(failure.getCode().name()).setRefusedMessage(String.valueOf(failure.getDescription()));
        } else {
            answer.setOutcome(OutcomeResponse.newBuilder().setOutcome(Outcome.COMMITTED));
        }
        send(ServerMessage.newBuilder().setCommitAnswer(answer).build());
    }

    @Override
    public void members(MembersRequest request, StreamObserver<MembersResponse> out) {
        out.onNext(MembersResponse.newBuilder().addAllMembers(members).build());
        out.onCompleted();
    }

    @Override
    public void resume(ResumeRequest request, StreamObserver<ResumeResponse> out) {
        resumes.add(request);
        ResumeResponse.Builder answer = ResumeResponse.newBuilder();
        for (Inquiry i : request.getBranchesList()) {
            answer.addAnswers(ResumeAnswer.newBuilder().setGtrid(i.getGtrid()).setBqual(i.getBqual())
                    .setVerdict(verdicts.getOrDefault(i.getGtrid(), Verdict.VERDICT_ASK_OWNER)));
        }
        out.onNext(answer.build());
        out.onCompleted();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
