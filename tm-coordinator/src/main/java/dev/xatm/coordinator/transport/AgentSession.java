package dev.xatm.coordinator.transport;

import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.cluster.Verdict;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.XidMdc;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ProtocolError;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Vote;
import dev.xatm.protocol.v1.Welcome;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.cluster.Ownership;
import dev.xatm.coordinator.engine.AgentRefusals;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * One agent's Connect stream. Inbound: the first message must be Hello (anything else ends the
 * stream with INVALID_ARGUMENT); then Votes, Acks and Inquiries become core events, and a message
 * the server cannot accept is answered with a ProtocolError while the stream stays open. A
 * CommitBatch's requests are taken one by one as Commit calls of the stream's agent would be, and
 * each is answered with a CommitAnswer: the agent's calling threads share the stream instead of
 * opening an HTTP/2 stream, with its headers, per transaction.
 *
 * <p>Outbound writes come from two threads (this stream's gRPC callbacks and the coordinator loop)
 * and a StreamObserver is not thread-safe, so every write goes through the synchronized
 * {@link #write}. Phase commands and protocol errors are dropped when the stream's buffer is full (a
 * slow or stuck agent): the core resends commands, so a slow agent costs a delay, not unbounded
 * server memory. Commit answers are never dropped: a caller waits for each, and there is at most one
 * per commit request the agent sent.
 */
final class AgentSession implements StreamObserver<AgentMessage> {
    private static final Logger log = LoggerFactory.getLogger(AgentSession.class);

    private final ServerCallStreamObserver<ServerMessage> out;
    private final CoordinatorLoop loop;
    private final AgentRegistry registry;
    private final String serverId;
    private final String peer;
    private final Cluster cluster;
    private final Ownership ownership;
    /** Takes the commit requests of CommitBatch messages. */
    private final CoordinatorService commits;
    /** Sent in Welcome; null only in tests of servers without one. */
    private final ClusterId clusterId;
    /** Set once by Hello, on this stream's (serialised) gRPC callback thread; read by the registry. */
    private volatile String agentId;
    /** The hash of Hello's instance secret, set with {@link #agentId}. */
    private volatile InstanceSecret secret;
    private boolean closed; // guarded by this

    AgentSession(ServerCallStreamObserver<ServerMessage> out, CoordinatorLoop loop, AgentRegistry registry,
                 String serverId, String peer, Cluster cluster, ClusterId clusterId, CoordinatorService commits) {
        this.out = out;
        this.commits = commits;
        this.cluster = cluster;
        this.clusterId = clusterId;
        this.ownership = new Ownership(cluster, clusterId);
        this.loop = loop;
        this.registry = registry;
        this.serverId = serverId;
        this.peer = peer;
        // With a cancel handler set, writes after the peer went away are ignored instead of throwing;
        // the disconnect itself is handled in onError.
        out.setOnCancelHandler(() -> {});
    }

    String agentId() {
        return agentId;
    }

    InstanceSecret secret() {
        return secret;
    }

    @Override
    public void onNext(AgentMessage message) {
        if (isClosed()) {
            return;
        }
        if (agentId == null) {
            if (!message.hasHello()) {
                refuseAndClose("the first message on Connect must be Hello, got " + message.getBodyCase());
                return;
            }
            hello(message.getHello());
            return;
        }
        try {
            switch (message.getBodyCase()) {
                case VOTE -> {
                    try (XidMdc.Scope mdc = XidMdc.put(message.getVote().getGtrid())) {
                        vote(message.getVote());
                    }
                }
                case ACK -> {
                    try (XidMdc.Scope mdc = XidMdc.put(message.getAck().getGtrid())) {
                        ack(message.getAck());
                    }
                }
                case ACKS -> acks(message.getAcks().getAcksList());
                case COMMITS -> message.getCommits().getRequestsList().forEach(this::commit);
                case INQUIRY -> {
                    try (XidMdc.Scope mdc = XidMdc.put(message.getInquiry().getGtrid())) {
                        inquiry(message.getInquiry());
                    }
                }
                case HELLO -> protocolError("FAILED_PRECONDITION", "Hello was already received on this stream");
                case BODY_NOT_SET -> protocolError("INVALID_ARGUMENT", "empty AgentMessage");
            }
        } catch (IllegalArgumentException e) {
            protocolError("INVALID_ARGUMENT", e.getMessage());
        }
    }

    @Override
    public void onError(Throwable t) {
        // the peer cancelled, its connection broke, or keep-alive found it dead
        synchronized (this) {
            closed = true;
        }
        ended("stream ended: " + Status.fromThrowable(t).getCode());
    }

    @Override
    public void onCompleted() {
        ended("agent closed the stream");
        synchronized (this) {
            if (!closed) {
                closed = true;
                out.onCompleted();
            }
        }
    }

    private void hello(Hello hello) {
        String id = hello.getAgentId();
        InstanceSecret proof;
        try {
            Ids.requireName("Hello.agent_id", id);
            proof = InstanceSecret.of("Hello.instance_secret", hello.getInstanceSecret());
        } catch (IllegalArgumentException e) {
            refuseAndClose(e.getMessage());
            return;
        }
        secret = proof;
        agentId = id;
        AgentRegistry.Admission admission;
        synchronized (this) {
            // The stream is recorded, and AgentConnected queued to the loop, before Welcome leaves:
            // a RegisterBranch the agent's application sends after reading Welcome then reaches the
            // loop after AgentConnected, so the core knows the agent is there. Welcome is still the
            // first message on the stream, because a command routed here waits for this lock.
            admission = registry.connect(this, () -> loop.agentConnected(id));
            if (admission.admitted()) {
                write(ServerMessage.newBuilder().setWelcome(welcome()).build());
            }
        }
        if (!admission.admitted()) {
            loop.agentRefusals().record(AgentRefusals.Kind.HELLO);
            String why = "agent " + Ids.quote(id) + " has a live stream opened by another process (another instance secret);"
                    + " an agent id belongs to one process at a time, and it is free again once that stream ends";
            log.warn("Connect from {} refused: {}", peer, why);
            write(ServerMessage.newBuilder().setError(ProtocolError.newBuilder().setCode("ALREADY_EXISTS").setMessage(why)).build());
            close(Status.ALREADY_EXISTS.withDescription(why));
            return;
        }
        AgentSession previous = admission.replaced();
        if (previous != null && previous != this) {
            log.warn("Agent {} connected again from {} (same process); closing its previous stream", id, peer);
            previous.close(Status.ABORTED.withDescription("replaced by a newer Connect stream of the same agent process"));
        } else {
            log.info("Agent {} connected from {}", id, peer);
        }
    }

    /** Who this server is: on a shared store its node, epoch (the owner tag of gtrids minted for it) and the live members. */
    private Welcome welcome() {
        Welcome.Builder w = Welcome.newBuilder().setServerId(serverId);
        cluster.self().ifPresent(self -> w.setNodeId(self.nodeId()).setEpoch(self.epoch()));
        if (clusterId != null) {
            w.setClusterId(clusterId.value());
        }
        w.setParticipantCanCommitTimeoutMs(loop.participantCanCommitMillis());
        return w.addAllMembers(CoordinatorService.members(cluster)).setCommitsOnStream(true).build();
    }

    private void commit(CommitRequest request) {
        String gtrid = request.getGtrid();
        commits.commitFromStream(request, agentId, new StreamObserver<>() {
            @Override
            public void onNext(OutcomeResponse outcome) {
                write(ServerMessage.newBuilder().setCommitAnswer(CommitAnswer.newBuilder().setGtrid(gtrid).setOutcome(outcome)).build());
            }

            @Override
            public void onError(Throwable refusal) {
                Status s = Status.fromThrowable(refusal);
                write(ServerMessage.newBuilder().setCommitAnswer(CommitAnswer.newBuilder().setGtrid(gtrid)
                        .setRefusedCode(s.getCode().name()).setRefusedMessage(s.getDescription() == null ? "" : s.getDescription())).build());
            }

            @Override
            public void onCompleted() {
                // the answer was the outcome
            }
        });
    }

    private void vote(Vote vote) {
        Ids.requireGtrid(vote.getGtrid());
        Ids.requireBqual(vote.getBqual());
        // The stream's agent, never a field of the message: an agent speaks only for itself.
        toLoop(new Event.VoteReceived(vote.getGtrid(), vote.getBqual(), Protos.vote(vote.getVote()),
                Protos.answering(vote.getAnswering()), agentId));
    }

    private void ack(Ack ack) {
        Ids.requireGtrid(ack.getGtrid());
        Ids.requireBqual(ack.getBqual());
        toLoop(new Event.AckReceived(ack.getGtrid(), ack.getBqual(), Protos.action(ack.getAction()), Protos.ackResult(ack.getResult()),
                ack.getAutonomous(), agentId));
    }

    /** All checked before any is taken, so that a malformed batch changes nothing. */
    private void acks(List<Ack> acks) {
        for (Ack ack : acks) {
            Ids.requireGtrid(ack.getGtrid());
            Ids.requireBqual(ack.getBqual());
            Protos.action(ack.getAction());
            Protos.ackResult(ack.getResult());
        }
        acks.forEach(this::ack);
    }

    private void inquiry(Inquiry inquiry) {
        Ids.requireGtrid(inquiry.getGtrid());
        Ids.requireBqual(inquiry.getBqual());
        Ids.requireName("resource_id", inquiry.getResourceId());
        String gtrid = inquiry.getGtrid();
        if (ownership.foreign(gtrid)) {
            // Checked first: the owner tag of another deployment's gtrid names a node of another store, so
            // rule R4 read from ours would presume it aborted.
            protocolError("NOT_MINE", ownership.notMine(gtrid), gtrid, inquiry.getBqual());
            return;
        }
        if (ownership.owns(gtrid)) {
            toLoop(new Event.Inquiry(gtrid, inquiry.getBqual(), inquiry.getResourceId(), agentId));
        } else if (ownership.clustered()) {
            String bqual = inquiry.getBqual();
            String resource = inquiry.getResourceId();
            // Known here (replayed after a restart, or adopted from a dead node): the state machine answers,
            // without presuming anything should it have forgotten it meanwhile. Else the store answers.
            loop.status(gtrid).whenComplete((status, error) -> {
                if (error == null && status != TxnStatus.UNKNOWN) {
                    toLoop(new Event.Inquiry(gtrid, bqual, resource, agentId, false));
                } else {
                    answerFromStore(gtrid, bqual, resource);
                }
            });
        } else {
            // A file-store server knows nothing of a cluster's gtrids: presuming abort here could undo a commit.
            protocolError("FAILED_PRECONDITION", "gtrid " + Ids.quote(gtrid) + " belongs to " + GtridOwner.of(gtrid).orElseThrow()
                    + " of a cluster; this server is not one of it (file store) and cannot answer for it");
        }
    }

    /**
     * An inquiry about a gtrid another server owns (or an earlier incarnation of this one) that this
     * one does not hold: the store is read (rule R4) and its verdict goes to the core as an
     * {@link Event.StoreVerdict}; the core sends whatever phase command follows (COMMIT to this agent,
     * or the presumed abort of a gtrid that can never commit, which it remembers), and this stream
     * only carries it. A store that cannot be read now answers nothing: the agent asks again.
     */
    private void answerFromStore(String gtrid, String bqual, String resource) {
        cluster.verdicts(List.of(gtrid)).whenComplete((verdicts, error) -> {
            if (error != null) {
                log.info("Agent {} asked about {} which another server owns; the store cannot answer now ({}); it will ask again",
                        agentId, gtrid, error.getMessage());
                return;
            }
            Verdict v = verdicts.getOrDefault(gtrid, Verdict.ASK_OWNER);
            toLoop(new Event.StoreVerdict(gtrid, bqual, resource, agentId, v));
        });
    }

    private void toLoop(Event event) {
        boolean taken = loop.offerAgentMessage(event, reply -> {
            if (reply instanceof Reply.Rejected rejected) {
                if (event instanceof Event.Inquiry inquiry && rejected.message().startsWith("not mine")) {
                    protocolError("NOT_MINE", rejected.message(), inquiry.gtrid(), inquiry.bqual());
                } else {
                    protocolError(rejected.code().name(), rejected.message());
                }
            }
        });
        if (!taken) {
            protocolError("RESOURCE_EXHAUSTED", "coordinator busy or stopping; message dropped, the command will be resent");
        }
    }

    void sendCommand(Outbound command) {
        if (!out.isReady()) {
            log.debug("Agent {} is not reading; {} for {}/{} dropped until the next resend", agentId, command.action(), command.gtrid(), command.bqual());
            return;
        }
        write(ServerMessage.newBuilder().setCommand(PhaseCommand.newBuilder()
                .setGtrid(command.gtrid()).setBqual(command.bqual()).setAction(Protos.action(command.action()))
                .setParticipantTimeoutMs(command.participantTimeoutMillis())).build());
    }

    private void protocolError(String code, String message) {
        protocolError(code, message, "", "");
    }

    /** A refusal about one branch names it, so the agent knows which one to leave alone. */
    private void protocolError(String code, String message, String gtrid, String bqual) {
        log.info("Agent {} ({}): message refused: {} {}", agentId, peer, code, message);
        if (!out.isReady()) {
            return; // an agent that floods us and does not read gets no unbounded backlog of errors
        }
        write(ServerMessage.newBuilder().setError(ProtocolError.newBuilder().setCode(code).setMessage(message)
                .setGtrid(gtrid).setBqual(bqual)).build());
    }

    private void refuseAndClose(String message) {
        log.warn("Connect from {} refused: {}", peer, message);
        write(ServerMessage.newBuilder().setError(ProtocolError.newBuilder().setCode("INVALID_ARGUMENT").setMessage(message)).build());
        close(Status.INVALID_ARGUMENT.withDescription(message));
    }

    /** Ends the stream from our side (protocol violation, replacement, shutdown). */
    synchronized void close(Status status) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            out.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
            log.debug("closing agent stream: {}", e.toString());
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private synchronized void write(ServerMessage message) {
        if (closed) {
            return;
        }
        try {
            out.onNext(message);
        } catch (RuntimeException e) {
            // the call is already gone; onError/onCancel does the bookkeeping
            log.debug("write to agent {} failed: {}", agentId, e.toString());
        }
    }

    private void ended(String why) {
        if (registry.disconnect(this, () -> loop.agentDisconnected(agentId))) {
            log.info("Agent {} ({}) disconnected: {}", agentId, peer, why);
        }
    }
}
