package dev.xatm.client.agent;

import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.MembersRequest;
import dev.xatm.protocol.v1.MembersResponse;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ResumeRequest;
import dev.xatm.protocol.v1.ResumeResponse;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Welcome;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent's link to one tm-server: its channel and the one Connect stream on it, reopened with
 * exponential backoff when it breaks, and what the server said of itself in its Welcome (server id,
 * node id, epoch). What arrives goes to the agent ({@link Events}); the link only keeps the stream.
 *
 * <p>Each stream has a generation: messages and errors of an older stream are ignored, so a late
 * error of a replaced stream cannot tear down the new one. A link is "connected" from its Welcome
 * until the stream breaks. A retired link (a duplicate of another link to the same server) is closed
 * and never reconnects. Thread-safe; the stream is written under {@code this} (a StreamObserver is
 * not thread-safe).
 */
final class ServerLink {
    private static final Logger log = LoggerFactory.getLogger(ServerLink.class);

    /** What a link reports to the agent; called on gRPC's threads, so implementations hand slow work off. */
    interface Events {
        /** Whether to keep a stream the server has just welcomed; false retires the link (a duplicate). */
        boolean admit(ServerLink link, Welcome welcome);

        /** The stream is welcomed and the link counts as connected. */
        void welcomed(ServerLink link, Welcome welcome);

        void command(ServerLink link, PhaseCommand command);

        void refused(ServerLink link, String code, String message);

        /** The server will say nothing about this branch: its gtrid names another deployment's cluster id. */
        void notMine(ServerLink link, String gtrid, String bqual, String message);

        /**
         * The stream broke. Called while the link still counts as connected, so the agent can tell
         * which branches it served (an untagged gtrid is served by the primary link).
         */
        void lost(ServerLink link, String why, boolean wasConnected);
    }

    private final String agentId;
    /** The agent process's instance secret, sent in every Hello (see Agent). */
    private final String instanceSecret;
    private final CoordinatorChannel channel;
    private final CoordinatorGrpc.CoordinatorStub stub;
    private final CoordinatorGrpc.CoordinatorBlockingStub blocking;
    private final ScheduledExecutorService reconnects;
    private final long backoffInitialMillis;
    private final long backoffMaxMillis;
    private final Events events;

    private StreamObserver<AgentMessage> out; // guarded by this
    private int generation;                    // guarded by this
    private int failedAttempts;                // guarded by this
    private boolean closed;                    // guarded by this
    private volatile boolean connected;
    private volatile boolean retired;
    private volatile String lastError = "not connected yet";
    /** The last Welcome; its node id stays known while the link is down (the gtrids it owns are routed to it). */
    private volatile Welcome welcome;
    /** Member lists in a row that left this connected server out; the agent's, under its lock. */
    int leaseMisses;
    /** Its last Members call got no answer in time (frozen?): others are asked first. */
    volatile boolean membersUnanswered;
    /** Set while a re-inquiry after a NOT_FOUND is queued, so a burst of such errors costs one sweep. */
    final AtomicBoolean reinquiryQueued = new AtomicBoolean();
    /** The callers' commit requests on this link's stream, while its server takes them there. */
    private final StreamCommits commits = new StreamCommits();

    ServerLink(String agentId, String instanceSecret, CoordinatorChannel channel, ScheduledExecutorService reconnects,
               long backoffInitialMillis, long backoffMaxMillis, Events events) {
        this.agentId = agentId;
        this.instanceSecret = instanceSecret;
        this.channel = channel;
        this.stub = CoordinatorGrpc.newStub(channel.channel());
        this.blocking = CoordinatorGrpc.newBlockingStub(channel.channel());
        this.reconnects = reconnects;
        this.backoffInitialMillis = backoffInitialMillis;
        this.backoffMaxMillis = backoffMaxMillis;
        this.events = events;
    }

    CoordinatorChannel channel() {
        return channel;
    }

    String description() {
        return channel.description();
    }

    String address() {
        return channel.address();
    }

    boolean isConnected() {
        return connected;
    }

    boolean isRetired() {
        return retired;
    }

    String lastError() {
        return lastError;
    }

    /** 3PC: the participant CAN_COMMIT timeout the last Welcome named; 0 before one, or from a server without CanCommitHeld. */
    long participantCanCommitMillis() {
        Welcome w = welcome;
        return w == null ? 0 : w.getParticipantCanCommitTimeoutMs();
    }

    /** The node id of the last Welcome, 0 before one or on a store of one server. */
    int nodeId() {
        Welcome w = welcome;
        return w == null ? 0 : w.getNodeId();
    }

    long epoch() {
        Welcome w = welcome;
        return w == null ? 0 : w.getEpoch();
    }

    String serverId() {
        Welcome w = welcome;
        return w == null ? null : w.getServerId();
    }

    /** The cluster id of the last Welcome; empty before one, or from a server that predates cluster ids. */
    String clusterId() {
        Welcome w = welcome;
        return w == null ? "" : w.getClusterId();
    }

    boolean everWelcomed() {
        return welcome != null;
    }

    /** Connected to a server that takes commit requests on the stream (its Welcome said so). */
    boolean takesCommitsOnStream() {
        Welcome w = welcome;
        return connected && w != null && w.getCommitsOnStream();
    }

    /** Sends {@code request} on the stream with those of other callers ready now; see {@link StreamCommits}. */
    CompletableFuture<CommitAnswer> commitOnStream(CommitRequest request) {
        return commits.submit(request, this::send);
    }

    void abandonCommit(String gtrid) {
        commits.abandon(gtrid);
    }

    synchronized void connect() {
        if (closed) {
            return;
        }
        int gen = ++generation;
        channel.resetConnectBackoff();
        out = stub.connect(new Inbound(gen));
        send(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId).setInstanceSecret(instanceSecret)).build());
    }

    /** Sends on the open stream; false when there is none (the server resends what it still needs after a reconnect). */
    synchronized boolean send(AgentMessage m) {
        if (out == null) {
            return false;
        }
        try {
            out.onNext(m);
            return true;
        } catch (RuntimeException e) {
            log.debug("send on a broken stream: {}", e.toString());
            return false;
        }
    }

    /** An Inquiry about a prepared branch; false when the stream is not open. */
    boolean inquire(TmXid xid, String resourceId) {
        return send(AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder()
                .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setResourceId(resourceId)).build());
    }

    /** The Resume RPC on this server (HA rule R4), with a deadline. */
    ResumeResponse resume(ResumeRequest request, long deadlineMillis) {
        return blocking.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS).resume(request);
    }

    /** The Members RPC on this server, with a deadline. */
    MembersResponse members(long deadlineMillis) {
        return blocking.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS).members(MembersRequest.getDefaultInstance());
    }

    private synchronized boolean current(int gen) {
        return gen == generation && !closed;
    }

    private final class Inbound implements ClientResponseObserver<AgentMessage, ServerMessage> {
        private final int gen;
        private ClientCallStreamObserver<AgentMessage> call;

        Inbound(int gen) {
            this.gen = gen;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<AgentMessage> requestStream) {
            this.call = requestStream;
            requestStream.disableAutoRequestWithInitial(Agent.INBOUND_WINDOW);
        }

        @Override
        public void onNext(ServerMessage m) {
            try {
                if (current(gen)) {
                    dispatch(m);
                }
            } finally {
                call.request(1); // keep the window constant: one read, one more allowed
            }
        }

        private void dispatch(ServerMessage m) {
            switch (m.getBodyCase()) {
                case WELCOME -> welcomed(m.getWelcome());
                case COMMAND -> events.command(ServerLink.this, m.getCommand());
                case COMMIT_ANSWER -> commits.answered(m.getCommitAnswer());
                case ERROR -> {
                    if ("NOT_MINE".equals(m.getError().getCode())) {
                        events.notMine(ServerLink.this, m.getError().getGtrid(), m.getError().getBqual(), m.getError().getMessage());
                    } else {
                        events.refused(ServerLink.this, m.getError().getCode(), m.getError().getMessage());
                    }
                }
                default -> log.debug("ignoring empty server message");
            }
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            lost(gen, s.getCode() + " " + s.getDescription());
        }

        @Override
        public void onCompleted() {
            lost(gen, "the coordinator closed the stream");
        }
    }

    private void welcomed(Welcome w) {
        welcome = w;
        boolean admitted;
        // Admission and "connected" under one lock shared by all links: two links welcomed as the same
        // node at once must not both see the other one as not connected yet.
        synchronized (events) {
            admitted = events.admit(this, w);
            if (admitted) {
                connected = true;
            }
        }
        if (!admitted) {
            retire();
            return;
        }
        synchronized (this) {
            failedAttempts = 0;
        }
        lastError = null;
        events.welcomed(this, w);
    }

    private void lost(int gen, String why) {
        long delay;
        synchronized (this) {
            if (gen != generation || closed) {
                return;
            }
            out = null;
            failedAttempts++;
            delay = Math.min(backoffMaxMillis, backoffInitialMillis << Math.min(failedAttempts - 1, 20));
        }
        commits.streamLost(why);
        boolean was = connected;
        events.lost(this, why, was);
        connected = false;
        lastError = why;
        if (!was) {
            log.info("Agent {} cannot reach {} ({}); next attempt in {} ms", agentId, description(), why, delay);
        }
        try {
            reconnects.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the agent is closing
        }
    }

    /** Closes the link for good: another link serves the same server. */
    private void retire() {
        retired = true;
        lastError = "closed: another link serves the same server";
        close();
    }

    /** Ends the stream; no reconnect follows. */
    void close() {
        StreamObserver<AgentMessage> o;
        synchronized (this) {
            closed = true;
            o = out;
            out = null;
        }
        connected = false;
        commits.streamLost("the agent closed it");
        if (o != null) {
            try {
                o.onCompleted();
            } catch (RuntimeException e) {
                log.debug("closing the agent stream: {}", e.toString());
            }
        }
    }

    @Override
    public String toString() {
        int node = nodeId();
        return description() + (node > 0 ? " (node " + node + ")" : "");
    }
}
