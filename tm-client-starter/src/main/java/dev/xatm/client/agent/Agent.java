package dev.xatm.client.agent;

import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckBatch;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Vote;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The application instance's agent: one long-lived, authenticated Connect stream to the coordinator,
 * over which it receives phase commands for the branches it holds and answers with votes and acks
 * (design notes, agent contract).
 *
 * <ul>
 *   <li>On every (re)connect: Hello, then an Inquiry for every branch it holds prepared and every
 *       prepared branch of ours that XA RECOVER finds on an enlisted resource.</li>
 *   <li>Commands run on a small pool, serialised per branch by the branch itself; each is
 *       idempotent, so the coordinator's resends are harmless.</li>
 *   <li>A broken stream is reopened with exponential backoff; answers lost with it are recovered by
 *       the coordinator's resend on reconnect.</li>
 *   <li>A vote the coordinator does not know the transaction of comes back as a ProtocolError
 *       NOT_FOUND (the coordinator lost it in a restart before deciding: presumed abort). The error
 *       does not say which branch, so the agent asks again about every branch it holds prepared; the
 *       coordinator answers ROLLBACK for the unknown ones, and nothing stays prepared.</li>
 *   <li>3PC: a YES to CAN_COMMIT or PRE_COMMIT arms the branch's participant timer
 *       ({@link ParticipantTimers}). When it runs out the agent rolls back (after CAN_COMMIT) or
 *       commits (after PRE_COMMIT) on its own and reports it with an autonomous Ack: at once when the
 *       stream is up, else after the next Welcome ({@link PendingReports}); the branch answers every
 *       later command with that same report.</li>
 * </ul>
 *
 * Thread-safe. The stream is written under {@code this} (a StreamObserver is not thread-safe).
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /**
     * Server messages we let the coordinator send ahead of our reading them. gRPC's default asks for
     * one at a time; the server drops a command while its stream is not ready (it resends later), and
     * on the in-process transport of embedded mode "ready" means exactly "the client asked for more".
     * Reading is cheap (commands go to the bounded work queue), so a generous window costs nothing and
     * keeps a burst of commands from waiting for the resend timer.
     */
    static final int INBOUND_WINDOW = 1_000;

    private final String agentId;
    private final CoordinatorGrpc.CoordinatorStub stub;
    private final CoordinatorChannel channel;
    private final String serverDescription;
    private final BranchTable table;
    private final Supplier<List<EnlistedResource>> resources;
    private final Recoverer recoverer;
    private final long backoffInitialMillis;
    private final long backoffMaxMillis;
    private final AgentListener listener;
    private final ExecutorService workers;
    private final ScheduledExecutorService reconnects;
    private final ParticipantTimers timers;
    private final PendingReports reports;
    /** Delay before an own decision that could not reach its database is tried again. */
    private final long decisionRetryMillis;
    /** How long the acks of the callers' own commits are collected before they go out in one message. */
    static final long ACK_BATCH_MILLIS = 5;
    static final int ACK_BATCH_MAX = 500;
    private final java.util.Queue<Ack> pendingAcks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicBoolean ackFlushQueued = new AtomicBoolean();
    private final ScheduledExecutorService ackTimer;

    private StreamObserver<AgentMessage> out; // guarded by this
    private int generation;                    // guarded by this
    private int failedAttempts;                // guarded by this
    private boolean closed;                    // guarded by this
    private volatile boolean connected;
    private volatile String lastError = "not connected yet";
    /** Guards nothing but the wait in {@link #awaitConnected}; signalled when the stream is welcomed. */
    private final Object welcome = new Object();
    /** Set while a re-inquiry after a NOT_FOUND is queued, so a burst of such errors costs one sweep. */
    private final AtomicBoolean reinquiryQueued = new AtomicBoolean();

    public Agent(String agentId, CoordinatorChannel channel, BranchTable table, Supplier<List<EnlistedResource>> resources,
                 String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads, AgentListener listener) {
        this.agentId = agentId;
        this.stub = CoordinatorGrpc.newStub(channel.channel());
        this.channel = channel;
        this.serverDescription = channel.description();
        this.table = table;
        this.resources = resources;
        this.recoverer = new Recoverer(resources, gtridPrefix);
        this.backoffInitialMillis = backoffInitialMillis;
        this.backoffMaxMillis = backoffMaxMillis;
        this.listener = listener;
        AtomicInteger n = new AtomicInteger();
        // bounded: commands beyond the queue are dropped (the coordinator resends them)
        this.workers = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, "tm-agent-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (r, pool) -> log.warn("Agent work queue full; a phase command is dropped until the coordinator resends it"));
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tm-agent-reconnect");
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        this.reconnects = s;
        this.ackTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tm-agent-acks");
            t.setDaemon(true);
            return t;
        });
        this.timers = new ParticipantTimers(this::decideAlone);
        this.reports = new PendingReports(10_000);
        this.decisionRetryMillis = Math.max(100, backoffInitialMillis);
        // a parked CAN_COMMIT / PRE_COMMIT kept its participant timeout in the branch
        table.onParkedCommand((branch, command) -> workers.execute(() -> run(branch.xid(), command, 0)));
    }

    public String agentId() {
        return agentId;
    }

    public boolean isConnected() {
        return connected;
    }

    /**
     * Waits until the stream is open and welcomed, at most {@code timeoutMillis}. The coordinator
     * refuses to register a branch on an agent without an open stream (it could never tell it to
     * commit or roll back), so enlistment waits here first: a global transaction right after start-up,
     * or during a reconnect, is delayed instead of refused. Returns whether the agent is connected.
     */
    public boolean awaitConnected(long timeoutMillis) throws InterruptedException {
        if (connected) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (welcome) {
            while (!connected) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(welcome, left);
            }
            return true;
        }
    }

    /** Why the stream is down, for the health indicator. */
    public String lastError() {
        return lastError;
    }

    public void start() {
        connect();
    }

    private synchronized void connect() {
        if (closed) {
            return;
        }
        int gen = ++generation;
        channel.resetConnectBackoff();
        out = stub.connect(new Inbound(gen));
        send(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)).build());
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
            requestStream.disableAutoRequestWithInitial(INBOUND_WINDOW);
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
                case WELCOME -> welcomed(m.getWelcome().getServerId());
                case COMMAND -> {
                    PhaseCommand c = m.getCommand();
                    workers.execute(() -> handle(c));
                }
                case ERROR -> refused(m.getError().getCode(), m.getError().getMessage());
                default -> log.debug("ignoring empty server message");
            }
        }

        @Override
        public void onError(Throwable t) {
            lost(gen, Status.fromThrowable(t).getCode() + " " + String.valueOf(Status.fromThrowable(t).getDescription()));
        }

        @Override
        public void onCompleted() {
            lost(gen, "the coordinator closed the stream");
        }
    }

    private synchronized boolean current(int gen) {
        return gen == generation && !closed;
    }

    private void welcomed(String serverId) {
        synchronized (this) {
            failedAttempts = 0;
        }
        connected = true;
        lastError = null;
        synchronized (welcome) {
            welcome.notifyAll();
        }
        log.info("Agent {} connected to {} (server id {})", agentId, serverDescription, serverId);
        listener.connected(serverId);
        sendPendingReports();
        workers.execute(this::announcePrepared);
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
        boolean was = connected;
        connected = false;
        lastError = why;
        if (was) {
            log.warn("Agent {} lost its stream to {}: {}; reconnecting", agentId, serverDescription, why);
            // Taken now, so branches that join on the next stream are not among them. Only registered ones:
            // the coordinator does not know a branch that rides on its caller's commit request, so it aborts
            // nothing for it, and that transaction may still commit once the stream is back.
            List<Branch> orphans = table.unprepared().stream().filter(Branch::isRegistered).toList();
            if (!orphans.isEmpty()) {
                workers.execute(() -> abandon(orphans, why));
            }
            listener.disconnected(why);
        } else {
            log.info("Agent {} cannot reach {} ({}); next attempt in {} ms", agentId, serverDescription, why, delay);
        }
        reconnects.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /**
     * The coordinator aborts every unfinished transaction that has a branch not yet prepared on an
     * agent whose stream broke (that branch "died with the agent's session"), and it does not wait
     * for, or send anything to, a disconnected agent about it; a coordinator that crashed and
     * restarted does not even know those transactions any more (presumed abort). Prepared branches
     * are settled by the Inquiry on reconnect, but an unprepared one would hold its connection and
     * its row locks forever. So the agent makes the coordinator's assumption true: it rolls them back
     * (a branch still in use when the business code lets go, and its next statement fails).
     */
    private void abandon(List<Branch> orphans, String why) {
        int n = 0;
        for (Branch b : orphans) {
            if (b.abandonIfUnprepared("the stream to the coordinator broke (" + why + "), which aborts its global transaction")) {
                table.settled(b);
                n++;
            }
        }
        if (n > 0) {
            log.warn("Agent {} rolled back {} unprepared branch(es) after losing its stream: their global transactions are aborted",
                    agentId, n);
        }
    }

    /**
     * The coordinator refused one of our messages. NOT_FOUND answers a vote for a transaction (or
     * branch) it does not know: it lost the transaction in a restart before deciding, so it is
     * presumed aborted (design notes, Changes). A vote carries no agent id, so the coordinator cannot
     * send the ROLLBACK itself, and the error does not name the branch; asking about each branch we
     * hold prepared makes it answer ROLLBACK for the unknown ones (and COMMIT or nothing for the
     * others, which is harmless: commands are idempotent).
     */
    void refused(String code, String message) {
        if (!"NOT_FOUND".equals(code)) {
            log.warn("{} refused a message of agent {}: {} {}", serverDescription, agentId, code, message);
            return;
        }
        log.info("{} does not know a transaction agent {} voted on ({}); asking about our prepared branches (presumed abort)",
                serverDescription, agentId, message);
        if (reinquiryQueued.compareAndSet(false, true)) {
            workers.execute(() -> {
                reinquiryQueued.set(false);
                for (Branch b : table.prepared()) {
                    if (b.mayInquire()) {
                        inquire(b.xid(), b.resource().resourceId());
                    }
                }
            });
        }
    }

    /** Inquiry for every prepared branch held in memory and every one of ours XA RECOVER finds. */
    private void announcePrepared() {
        for (Branch b : table.prepared()) {
            if (b.mayInquire()) {
                inquire(b.xid(), b.resource().resourceId());
            }
        }
        for (EnlistedResource r : resources.get()) {
            if (!r.supported()) {
                continue;
            }
            try {
                for (TmXid xid : recoverer.scan(r)) {
                    if (table.get(xid) == null) {
                        log.info("XA RECOVER found prepared branch {} on {}; asking the coordinator for its outcome", xid, r);
                        inquire(xid, r.resourceId());
                    }
                }
            } catch (Exception e) {
                log.warn("XA RECOVER on {} failed: {}; prepared branches there are found on the next reconnect", r, e.toString());
            }
        }
    }

    private void inquire(TmXid xid, String resourceId) {
        send(AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder()
                .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setResourceId(resourceId)).build());
    }

    private void handle(PhaseCommand c) {
        TmXid xid;
        try {
            xid = new TmXid(c.getGtrid(), c.getBqual());
        } catch (IllegalArgumentException e) {
            log.warn("Ignoring a phase command with a malformed xid: {}", e.getMessage());
            return;
        }
        Branch.Command command = switch (c.getAction()) {
            case PREPARE -> Branch.Command.PREPARE;
            case COMMIT -> Branch.Command.COMMIT;
            case ROLLBACK -> Branch.Command.ROLLBACK;
            case COMMIT_ONE_PHASE -> Branch.Command.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> Branch.Command.CAN_COMMIT;
            case PRE_COMMIT -> Branch.Command.PRE_COMMIT;
            default -> null;
        };
        if (command == null) {
            log.warn("Ignoring phase command {} for {}: unknown action", c.getAction(), xid);
            return;
        }
        run(xid, command, c.getParticipantTimeoutMs());
    }

    // ---- the calling thread's own branches (one round trip, SPEC §10) ----

    /**
     * Runs {@code command} on a branch of the calling thread's own global transaction, as a command
     * from the coordinator would run, without answering the coordinator (a vote rides on the commit
     * request instead; see {@link #acknowledge}).
     */
    public Branch.Answer runForCaller(Branch b, Branch.Command command) {
        long start = System.nanoTime();
        Branch.Answer answer = execute(b.xid(), command, 0);
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        return answer;
    }

    /**
     * Tells the coordinator what {@link #runForCaller} did (a COMMIT or ROLLBACK done). Collected for
     * {@link #ACK_BATCH_MILLIS} and sent as one message: nobody waits for these acks (the coordinator
     * only stops resending), and one message for many transactions costs the stream, both processes
     * and the lock on the stream far less than one each.
     */
    public void acknowledge(Branch b, Branch.Command command, Branch.Answer answer) {
        if (answer != Branch.Answer.DONE) {
            reply(b.xid(), command, answer);
            return;
        }
        pendingAcks.add(Ack.newBuilder().setGtrid(b.xid().gtrid()).setBqual(b.xid().bqual()).setAction(action(command))
                .setResult(AckResult.DONE).build());
        if (ackFlushQueued.compareAndSet(false, true)) {
            try {
                ackTimer.schedule(this::flushAcks, ACK_BATCH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                ackFlushQueued.set(false); // closed: close() flushes what is left
            }
        }
    }

    /** Sends the collected acks, at most {@link #ACK_BATCH_MAX} per message. Lost ones only mean a resent COMMIT. */
    private void flushAcks() {
        ackFlushQueued.set(false);
        AckBatch.Builder batch = AckBatch.newBuilder();
        for (Ack a = pendingAcks.poll(); a != null; a = pendingAcks.poll()) {
            batch.addAcks(a);
            if (batch.getAcksCount() == ACK_BATCH_MAX) {
                send(AgentMessage.newBuilder().setAcks(batch).build());
                batch = AckBatch.newBuilder();
            }
        }
        if (batch.getAcksCount() > 0) {
            send(AgentMessage.newBuilder().setAcks(batch).build());
        }
    }

    /**
     * The caller could not learn the outcome of its commit request: ask the coordinator about these
     * prepared branches now (as after a reconnect); its answer, now or once it decided, finishes them.
     */
    public void inquireAbout(List<Branch> branches) {
        workers.execute(() -> {
            for (Branch b : branches) {
                if (b.mayInquire()) {
                    inquire(b.xid(), b.resource().resourceId());
                }
            }
        });
    }

    /** Runs one command and answers it. Package-visible for tests. */
    void run(TmXid xid, Branch.Command command) {
        run(xid, command, 0);
    }

    private void run(TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        long start = System.nanoTime();
        Branch.Answer answer;
        try {
            answer = execute(xid, command, participantTimeoutMillis);
        } catch (RuntimeException e) {
            log.error("{} of branch {} failed unexpectedly; the coordinator will resend it", command, xid, e);
            return;
        }
        listener.commandExecuted(command.name(), answer.name(), System.nanoTime() - start);
        reply(xid, command, answer);
    }

    private Branch.Answer execute(TmXid xid, Branch.Command command, long participantTimeoutMillis) {
        Branch b = table.get(xid);
        if (b == null) {
            return switch (command) {
                // not ours (any more): its work died with its session
                case PREPARE, CAN_COMMIT, PRE_COMMIT -> Branch.Answer.VOTE_NO;
                case COMMIT_ONE_PHASE -> {
                    log.warn("COMMIT_ONE_PHASE for {} which this agent does not hold; answering rolled back", xid);
                    yield Branch.Answer.ROLLED_BACK_INSTEAD;
                }
                case COMMIT -> recoverer.finish(xid, true, null);
                case ROLLBACK -> recoverer.finish(xid, false, null);
            };
        }
        Branch.Answer answer;
        synchronized (b) {
            answer = executeLocked(b, command, participantTimeoutMillis);
            timers.afterCommand(b, command, answer);
        }
        if (b.heuristic()) {
            listener.heuristic(xid.toString());
        }
        table.settled(b);
        return answer;
    }

    /** One command on a branch whose lock the caller holds; a prepared branch whose connection broke is finished by xid. */
    private Branch.Answer executeLocked(Branch b, Branch.Command command, long participantTimeoutMillis) {
        if (b.detached() && (command == Branch.Command.COMMIT || command == Branch.Command.ROLLBACK)) {
            boolean commit = command == Branch.Command.COMMIT;
            Branch.Answer answer = recoverer.finish(b.xid(), commit, b.resource());
            if (answer == Branch.Answer.DONE) {
                b.finishedByXid(commit);
            }
            return answer;
        }
        return b.execute(command, participantTimeoutMillis);
    }

    /**
     * A participant timer ran out (SPEC §2): the branch answered YES to CAN_COMMIT and no PRE_COMMIT
     * came, so it rolls back; or it acknowledged PRE_COMMIT and no decision came, so it commits, on
     * the connection that prepared it (MariaDB binds a prepared branch to its session). A decision
     * that cannot reach the database now is tried again shortly; a COMMIT or ROLLBACK arriving
     * meanwhile disarms it.
     */
    private void decideAlone(Branch b, long token) {
        Branch.Command decision;
        try {
            synchronized (b) {
                if (!b.timerDue(token)) {
                    return; // the command it waited for was handled first
                }
                decision = switch (b.state()) {
                    case WILLING -> Branch.Command.ROLLBACK;
                    case PREPARED -> Branch.Command.COMMIT;
                    default -> null;
                };
                if (decision == null) {
                    return;
                }
                Branch.Answer answer = executeLocked(b, decision, 0);
                if (answer != Branch.Answer.DONE) {
                    log.warn("Branch {} timed out waiting for the coordinator, but its own {} did not take effect yet; trying again in {} ms",
                            b, decision, decisionRetryMillis);
                    timers.arm(b, decisionRetryMillis);
                    return;
                }
                b.decidedOnItsOwn(decision);
            }
        } catch (RuntimeException e) {
            log.error("Own decision for branch {} failed unexpectedly; trying again in {} ms", b, decisionRetryMillis, e);
            synchronized (b) {
                timers.arm(b, decisionRetryMillis);
            }
            return;
        }
        if (b.heuristic()) {
            listener.heuristic(b.xid().toString());
        }
        table.settled(b);
        log.warn("Branch {} {} ON ITS OWN: no {} from {} within its participant timeout ({} ms, three-phase commit); reported to the"
                        + " coordinator {}", b, decision == Branch.Command.COMMIT ? "COMMITTED" : "ROLLED BACK",
                decision == Branch.Command.COMMIT ? "COMMIT or ROLLBACK" : "PRE_COMMIT or ROLLBACK", serverDescription,
                b.participantTimeoutMillis(), connected ? "now" : "when the stream is back");
        listener.decidedOnItsOwn(decision == Branch.Command.COMMIT ? "commit" : "rollback");
        // queued first, then sent if connected: a Welcome racing with this sends it either way
        reports.add(b.xid(), decision);
        if (connected) {
            sendPendingReports();
        }
    }

    /** Participant timers still on the clock (armed, not yet fired or disarmed); for tests. */
    int pendingTimers() {
        return timers.pending();
    }

    private void sendPendingReports() {
        reports.drain().forEach((xid, decision) -> reply(xid, decision,
                decision == Branch.Command.COMMIT ? Branch.Answer.DECIDED_COMMIT : Branch.Answer.DECIDED_ROLLBACK));
    }

    private void reply(TmXid xid, Branch.Command command, Branch.Answer answer) {
        AgentMessage m = switch (answer) {
            case VOTE_YES, VOTE_NO, VOTE_READ_ONLY -> AgentMessage.newBuilder().setVote(Vote.newBuilder()
                    .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setVote(vote(answer)).setAnswering(answering(command))).build();
            case DECIDED_COMMIT, DECIDED_ROLLBACK -> AgentMessage.newBuilder().setAck(ownDecision(xid, command, answer)).build();
            case DONE, ROLLED_BACK_INSTEAD -> AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual())
                    .setAction(action(command))
                    .setResult(answer == Branch.Answer.DONE ? AckResult.DONE : AckResult.ROLLED_BACK_INSTEAD)).build();
            case NONE -> null;
        };
        if (m != null) {
            send(m);
        }
    }

    /**
     * The report of a decision the participant took on its own, in answer to {@code command}: that
     * decision as an autonomous Ack, or, when the command asks for the opposite (ROLLBACK of a branch
     * it committed), the command's Ack with the heuristic outcome the coordinator must record.
     */
    private Ack ownDecision(TmXid xid, Branch.Command command, Branch.Answer answer) {
        boolean committed = answer == Branch.Answer.DECIDED_COMMIT;
        Ack.Builder ack = Ack.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAutonomous(true);
        boolean opposite = committed ? command == Branch.Command.ROLLBACK
                : command == Branch.Command.COMMIT || command == Branch.Command.COMMIT_ONE_PHASE;
        if (opposite) {
            listener.heuristic(xid.toString());
            return ack.setAction(action(command)).setResult(committed ? AckResult.HEURISTIC_COMMIT : AckResult.HEURISTIC_ROLLBACK).build();
        }
        return ack.setAction(committed ? PhaseAction.COMMIT : PhaseAction.ROLLBACK).setResult(AckResult.DONE).build();
    }

    /** What a vote answers: 2PC's PREPARE stays unspecified on the wire (the server reads that as PREPARE). */
    private static PhaseAction answering(Branch.Command c) {
        return switch (c) {
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
            default -> PhaseAction.PHASE_ACTION_UNSPECIFIED;
        };
    }

    private static BranchVote vote(Branch.Answer a) {
        return switch (a) {
            case VOTE_YES -> BranchVote.YES;
            case VOTE_READ_ONLY -> BranchVote.READ_ONLY;
            default -> BranchVote.NO;
        };
    }

    private static PhaseAction action(Branch.Command c) {
        return switch (c) {
            case PREPARE -> PhaseAction.PREPARE;
            case COMMIT -> PhaseAction.COMMIT;
            case ROLLBACK -> PhaseAction.ROLLBACK;
            case COMMIT_ONE_PHASE -> PhaseAction.COMMIT_ONE_PHASE;
            case CAN_COMMIT -> PhaseAction.CAN_COMMIT;
            case PRE_COMMIT -> PhaseAction.PRE_COMMIT;
        };
    }

    private synchronized void send(AgentMessage m) {
        if (out == null) {
            return; // not connected: the coordinator resends what it still needs after the reconnect
        }
        try {
            out.onNext(m);
        } catch (RuntimeException e) {
            log.debug("send on a broken stream: {}", e.toString());
        }
    }

    @Override
    public void close() {
        ackTimer.shutdownNow();
        flushAcks(); // on the stream that is still open
        StreamObserver<AgentMessage> o;
        synchronized (this) {
            closed = true;
            o = out;
            out = null;
        }
        connected = false;
        reconnects.shutdownNow();
        timers.close();
        if (o != null) {
            try {
                o.onCompleted();
            } catch (RuntimeException e) {
                log.debug("closing the agent stream: {}", e.toString());
            }
        }
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
