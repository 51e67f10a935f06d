package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.Inquiry;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ProtocolError;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Vote;
import dev.xatm.testkit.Channels;
import dev.xatm.testkit.TestDb;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An agent written for the tests: it speaks the agent side of the wire protocol and holds REAL XA
 * branches on PostgreSQL and MariaDB, following the agent contract in the design notes:
 * <ul>
 *   <li>Connect stream with the bearer token, Hello, then -- on every (re)connect -- an Inquiry for
 *       every branch it holds prepared, in memory and found by XA RECOVER (our format id and this
 *       agent's gtrid prefix only: foreign xids are never touched);</li>
 *   <li>commands run idempotently and serialised per branch, off the gRPC thread;</li>
 *   <li>COMMIT / ROLLBACK on the connection that prepared the branch while it still has it (MariaDB
 *       binds a prepared branch to its session), else by xid on a fresh connection;
 *       XAER_NOTA on ROLLBACK is done, and on COMMIT too, because the server sends COMMIT only after
 *       a durable decision;</li>
 *   <li>reconnects with backoff when the stream breaks;</li>
 *   <li>three-phase commit as a participant: CAN_COMMIT is a question (nothing durable changes; the
 *       branch stays active), PRE_COMMIT is XA END + PREPARE, and each YES arms the participant's
 *       own timer ({@code PhaseCommand.participant_timeout_ms}), which any later command for the
 *       branch disarms. When it runs out the agent decides alone -- ROLLBACK after CAN_COMMIT, COMMIT
 *       after PRE_COMMIT -- records it ({@link #decidedOnTheirOwn()}), reports it as an autonomous
 *       Ack at once or on its next connect, and answers every later command for the branch with
 *       that report (a ROLLBACK after its own COMMIT with HEURISTIC_COMMIT).</li>
 * </ul>
 *
 * <p>Misbehaviour is switched on per instance (never static), per branch: vote NO, never answer
 * PREPARE, prepare but withhold the vote, hold COMMIT commands until released. Everything received
 * is recorded, and commands the server should never have sent (COMMIT for an unprepared or
 * rolled-back branch, ROLLBACK for a committed one, in 3PC also PRE_COMMIT without a YES to
 * CAN_COMMIT, COMMIT for a branch never pre-committed, 2PC and 3PC commands mixed on one branch...)
 * are collected as {@link #violations()}.
 *
 * <p>Thread-safe. The test thread runs SQL on a branch only while no command for it is in flight
 * (before RegisterBranch/Commit), as a business method would.
 */
public final class TestAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestAgent.class);
    private static final long BACKOFF_INITIAL_MS = 50;
    private static final long BACKOFF_MAX_MS = 1000;

    public enum BranchState { ACTIVE, PREPARED, COMMITTED, ROLLED_BACK, IN_DOUBT }

    /**
     * Where this agent's process dies on purpose ({@link #crashAt}), the agent side of the crash-point
     * switch (the server's is {@code tm.server.crash-point}). Each fires once, for the first branch
     * that reaches it, and the agent then dies exactly as {@link #crash()} does.
     */
    public enum CrashPoint {
        /** The branch is prepared in its database; the YES vote is never sent. */
        AGENT_AFTER_PREPARE,
        /** The branch is committed in its database; the COMMIT acknowledgement is never sent. */
        AGENT_BEFORE_COMMIT_ACK,
        /** 3PC: the YES to CAN_COMMIT is sent, then the agent dies (its branches are not prepared yet). */
        AGENT_AFTER_CAN_COMMIT
    }

    /** A command as received, with the number of the stream session it arrived on and when (System.nanoTime). */
    public record Received(PhaseAction action, TmXid xid, int session, long atNanos) {}

    /** 3PC: a branch this agent decided alone when its participant timer ran out (COMMIT or ROLLBACK). */
    public record OwnDecision(TmXid xid, PhaseAction action) {}

    private final String agentId;
    /** Sent in every Hello; {@link #secretFor} unless a test plays another process with {@link #withInstanceSecret}. */
    private volatile String instanceSecret;
    private final String gtridPrefix;
    private final Map<String, TestDb> dbs = new LinkedHashMap<>();
    private final ManagedChannel channel;
    private final CoordinatorGrpc.CoordinatorStub stub;
    private final ExecutorService workers;
    private final ScheduledExecutorService scheduler;

    private final ConcurrentHashMap<TmXid, Branch> branches = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<TmXid, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    // Knobs: how this agent misbehaves.
    private final Set<TmXid> voteNo = ConcurrentHashMap.newKeySet();
    private final Set<TmXid> ignorePrepare = ConcurrentHashMap.newKeySet();
    private final Set<TmXid> withholdVote = ConcurrentHashMap.newKeySet();
    private final List<PhaseCommand> heldCommits = new ArrayList<>(); // guarded by itself
    private boolean holdCommits; // guarded by heldCommits
    private volatile CrashPoint crashAt;
    private final CompletableFuture<TmXid> crashed = new CompletableFuture<>();

    // Observations.
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final List<OwnDecision> ownDecisions = new CopyOnWriteArrayList<>();
    /** Own decisions not yet handed to a live stream; sent on the next connect. */
    private final Set<TmXid> unreported = ConcurrentHashMap.newKeySet();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final List<ProtocolError> protocolErrors = new CopyOnWriteArrayList<>();
    private final AtomicInteger welcomes = new AtomicInteger();
    private volatile dev.xatm.protocol.v1.Welcome welcome;
    private final AtomicInteger inquiriesSent = new AtomicInteger();

    // The stream.
    private final Object streamLock = new Object();
    private StreamObserver<AgentMessage> outbound; // guarded by streamLock; null while disconnected
    private int session; // guarded by streamLock
    private long backoffMs = BACKOFF_INITIAL_MS; // guarded by streamLock
    private volatile boolean connected;
    private volatile boolean closed;

    /**
     * @param gtridPrefix only prepared xids whose gtrid is {@code gtridPrefix + "-..."} are this agent's to recover; it
     *                    plays the role of the cluster id in the gtrid and keeps concurrent
     *                    test runs on the same database servers apart
     */
    public TestAgent(String agentId, String target, String token, String gtridPrefix, List<TestDb> resources) {
        this.agentId = agentId;
        this.instanceSecret = secretFor(agentId);
        this.gtridPrefix = gtridPrefix;
        for (TestDb db : resources) {
            dbs.put(db.resourceId(), db);
        }
        this.channel = Channels.channel(target);
        this.stub = CoordinatorGrpc.newStub(channel).withInterceptors(Channels.bearer(token));
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, agentId + "-worker-" + n.incrementAndGet()));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, agentId + "-reconnect"));
    }

    public String agentId() {
        return agentId;
    }

    /**
     * The instance secret a test agent of this id sends in Hello by default: fixed per id, so that the
     * tests' unary calls (TmClient) can name the agent and prove it without a handle on the agent. A real
     * agent draws a random one at start.
     */
    public static String secretFor(String agentId) {
        return dev.xatm.testkit.FakeAgent.secretFor(agentId); // one rule for both test agents
    }

    /** Plays another process claiming this agent id: its Hellos carry {@code secret} instead. Call before {@link #start}. */
    public TestAgent withInstanceSecret(String secret) {
        this.instanceSecret = secret;
        return this;
    }

    /**
     * Misbehaves: sends {@code message} on the stream as it is, e.g. a vote or an ack for a branch another
     * agent holds. False when not connected.
     */
    public boolean sendRaw(AgentMessage message) {
        synchronized (streamLock) {
            if (outbound == null) {
                return false;
            }
            outbound.onNext(message);
            return true;
        }
    }

    /** Opens the stream (and keeps reopening it until {@link #close()}). */
    public TestAgent start() {
        connect();
        return this;
    }

    // ------------------------------------------------------------------ branches (the business side)

    /** XA START of a new branch on {@code db}; the test then writes through {@link Branch#update}. */
    public Branch begin(TestDb db, String gtrid, String bqual) throws SQLException, XAException {
        TmXid xid = new TmXid(gtrid, bqual);
        XAConnection xa = db.openXa();
        Branch b = new Branch(xid, db, xa);
        try {
            xa.getXAResource().start(xid, XAResource.TMNOFLAGS);
        } catch (XAException | RuntimeException e) {
            xa.close();
            throw e;
        }
        if (branches.putIfAbsent(xid, b) != null) {
            xa.close();
            throw new IllegalStateException("branch " + xid + " already exists in agent " + agentId);
        }
        return b;
    }

    public Optional<Branch> branch(TmXid xid) {
        return Optional.ofNullable(branches.get(xid));
    }

    public BranchState state(TmXid xid) {
        Branch b = branches.get(xid);
        return b == null ? null : b.state;
    }

    // ------------------------------------------------------------------ knobs

    /** On PREPARE of {@code xid} (3PC: on CAN_COMMIT): roll the branch back and vote NO. */
    public void voteNo(TmXid xid) {
        voteNo.add(xid);
    }

    /**
     * Never answer PREPARE (3PC: PRE_COMMIT) of {@code xid}, and do not prepare it: as if the command
     * never arrived, so the answer times out at the server (and in 3PC the CAN_COMMIT timer keeps running).
     */
    public void neverAnswerPrepare(TmXid xid) {
        ignorePrepare.add(xid);
    }

    /** On PREPARE (3PC: PRE_COMMIT) of {@code xid}: really prepare it, but send no vote (so no participant timer starts). */
    public void withholdVote(TmXid xid) {
        withholdVote.add(xid);
    }

    /** Back to normal voting; votes withheld so far are simply lost (as if the agent had crashed). */
    public void stopWithholdingVotes() {
        withholdVote.clear();
    }

    /** From now on COMMIT commands are kept, not executed, until {@link #releaseCommits()}. */
    public void holdCommits() {
        synchronized (heldCommits) {
            holdCommits = true;
        }
    }

    public int heldCommitCount() {
        synchronized (heldCommits) {
            return heldCommits.size();
        }
    }

    /** Forgets the COMMITs held so far (they were lost with the stream), keeps holding new ones. */
    public int discardHeldCommits() {
        synchronized (heldCommits) {
            int n = heldCommits.size();
            heldCommits.clear();
            return n;
        }
    }

    /** Executes the held COMMIT of one branch (the others stay held). */
    public boolean releaseCommit(TmXid xid) {
        PhaseCommand release = null;
        synchronized (heldCommits) {
            for (var it = heldCommits.iterator(); it.hasNext(); ) {
                PhaseCommand c = it.next();
                if (new TmXid(c.getGtrid(), c.getBqual()).equals(xid)) {
                    it.remove();
                    release = c;
                    break;
                }
            }
        }
        if (release != null) {
            dispatch(release);
        }
        return release != null;
    }

    /**
     * The business code gave up on a branch before (or without knowing whether) its commit was asked:
     * roll it back here if it is still ACTIVE, serialised with the server's commands for it, so a
     * PREPARE that arrives later finds it rolled back (and votes NO), and one that came first wins.
     */
    public CompletableFuture<Void> rollbackIfActive(TmXid xid) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        serially(xid, () -> {
            Branch b = branches.get(xid);
            if (b != null && b.state == BranchState.ACTIVE) {
                b.rollbackActive();
            }
            done.complete(null);
        });
        return done;
    }

    /** Arms a crash point: the agent dies when the first branch reaches it. */
    public void crashAt(CrashPoint point) {
        crashAt = point;
    }

    /** Completes with the branch at which the armed crash point fired. */
    public CompletableFuture<TmXid> crashed() {
        return crashed;
    }

    private boolean crashHere(CrashPoint point, TmXid xid) {
        if (crashAt != point) {
            return false;
        }
        crashAt = null;
        log.warn("{}: CRASH POINT {} reached at {}: the agent dies now", agentId, point, xid);
        crash();
        crashed.complete(xid);
        return true;
    }

    /** Stops holding and executes every COMMIT held so far. */
    public void releaseCommits() {
        List<PhaseCommand> release;
        synchronized (heldCommits) {
            holdCommits = false;
            release = new ArrayList<>(heldCommits);
            heldCommits.clear();
        }
        for (PhaseCommand c : release) {
            dispatch(c);
        }
    }

    // ------------------------------------------------------------------ observations

    public boolean isConnected() {
        return connected;
    }

    /**
     * The server incarnation of the last Welcome, as a gtrid's owner tag names it; empty on a file
     * store (no node id) or before the first Welcome.
     */
    public java.util.Optional<dev.xatm.protocol.GtridOwner> owner() {
        dev.xatm.protocol.v1.Welcome w = welcome;
        return w == null || w.getNodeId() == 0 ? java.util.Optional.empty()
                : java.util.Optional.of(new dev.xatm.protocol.GtridOwner(w.getNodeId(), w.getEpoch()));
    }

    /** How many Welcomes this agent got: one per successful (re)connect. */
    public int welcomes() {
        return welcomes.get();
    }

    public int inquiriesSent() {
        return inquiriesSent.get();
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    /** 3PC: every branch this agent decided alone when its participant timer ran out, in order. */
    public List<OwnDecision> decidedOnTheirOwn() {
        return List.copyOf(ownDecisions);
    }

    /** When {@code action} for {@code xid} first arrived (System.nanoTime), or -1. */
    public long firstReceivedNanos(TmXid xid, PhaseAction action) {
        for (Received r : received) {
            if (r.xid().equals(xid) && r.action() == action) {
                return r.atNanos();
            }
        }
        return -1;
    }

    public List<PhaseAction> actionsFor(TmXid xid) {
        List<PhaseAction> out = new ArrayList<>();
        for (Received r : received) {
            if (r.xid().equals(xid)) {
                out.add(r.action());
            }
        }
        return out;
    }

    /** Commands the server should never have sent; a correct server leaves this empty. */
    public List<String> violations() {
        return List.copyOf(violations);
    }

    public List<ProtocolError> protocolErrors() {
        return List.copyOf(protocolErrors);
    }

    // ------------------------------------------------------------------ the stream

    private void connect() {
        synchronized (streamLock) {
            if (closed) {
                return;
            }
            int s = ++session;
            // gRPC's own reconnect backoff grows to minutes; after a server restart we want to try now.
            channel.resetConnectBackoff();
            StreamObserver<AgentMessage> out = stub.connect(new Inbound(s));
            outbound = out;
            out.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId).setInstanceSecret(instanceSecret)).build());
        }
    }

    private final class Inbound implements StreamObserver<ServerMessage> {
        private final int session;

        Inbound(int session) {
            this.session = session;
        }

        @Override
        public void onNext(ServerMessage m) {
            switch (m.getBodyCase()) {
                case WELCOME -> {
                    synchronized (streamLock) {
                        backoffMs = BACKOFF_INITIAL_MS;
                    }
                    welcome = m.getWelcome();
                    connected = true;
                    welcomes.incrementAndGet();
                    log.info("{}: connected (session {}) to {}", agentId, session, m.getWelcome().getServerId());
                    workers.execute(() -> {
                        inquireAll(session);
                        reportOwnDecisions();
                    });
                }
                case COMMAND -> onCommand(m.getCommand(), session);
                case ERROR -> {
                    protocolErrors.add(m.getError());
                    log.warn("{}: server reported a protocol error: {} {}", agentId, m.getError().getCode(), m.getError().getMessage());
                }
                default -> violations.add("unexpected server message " + m);
            }
        }

        @Override
        public void onError(Throwable t) {
            lost(session, t.toString());
        }

        @Override
        public void onCompleted() {
            synchronized (streamLock) {
                if (session == TestAgent.this.session && outbound != null) {
                    try {
                        outbound.onCompleted();
                    } catch (RuntimeException ignored) {
                        // Already closed from the other side.
                    }
                }
            }
            lost(session, "server closed the stream");
        }
    }

    private void lost(int s, String why) {
        long delay;
        synchronized (streamLock) {
            if (s != session) {
                return; // an old stream, already replaced
            }
            outbound = null;
            connected = false;
            delay = backoffMs;
            backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
        }
        if (closed) {
            return;
        }
        log.info("{}: stream lost ({}); reconnecting in {} ms", agentId, why, delay);
        try {
            scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException shuttingDown) {
            // closed meanwhile
        }
    }

    private boolean send(AgentMessage m) {
        synchronized (streamLock) {
            if (closed) {
                return false; // a dead (or closed) agent says nothing more
            }
            if (outbound == null) {
                log.info("{}: not connected, dropped {}", agentId, m.getBodyCase());
                return false;
            }
            try {
                outbound.onNext(m);
                return true;
            } catch (RuntimeException e) {
                log.info("{}: send failed ({}), dropped {}", agentId, e.toString(), m.getBodyCase());
                return false;
            }
        }
    }

    /**
     * Asks again about every branch held prepared, as the starter does while an answer is outstanding
     * (a server that could not answer yet, HA rule R4: the owner may still decide).
     */
    public void inquireAgain() {
        for (Branch b : branches.values()) {
            if (b.state == BranchState.PREPARED) {
                inquire(b);
            }
        }
    }

    /**
     * On every (re)connect: ask about every branch we hold prepared, remembered in memory or found
     * by XA RECOVER (ours only), so nothing stays prepared after a coordinator or agent restart.
     */
    private void inquireAll(int s) {
        for (Branch b : branches.values()) {
            if (b.state == BranchState.PREPARED) {
                inquire(b);
            }
        }
        for (TestDb db : dbs.values()) {
            Xid[] found;
            try {
                XAConnection xa = db.openXa();
                try {
                    found = xa.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
                } finally {
                    xa.close();
                }
            } catch (SQLException | XAException e) {
                log.warn("{}: XA RECOVER on {} failed: {}", agentId, db, e.toString());
                continue;
            }
            for (Xid raw : found) {
                Optional<TmXid> ours = TmXid.parse(raw).filter(x -> x.gtrid().startsWith(gtridPrefix + "-"));
                if (ours.isEmpty()) {
                    continue;
                }
                Branch recovered = new Branch(ours.get(), db, null);
                recovered.state = BranchState.PREPARED;
                if (branches.putIfAbsent(ours.get(), recovered) == null) {
                    log.info("{}: XA RECOVER found prepared branch {} on {}", agentId, ours.get(), db);
                    inquire(recovered);
                }
            }
        }
    }

    private void inquire(Branch b) {
        inquiriesSent.incrementAndGet();
        send(AgentMessage.newBuilder().setInquiry(Inquiry.newBuilder()
                .setGtrid(b.xid.gtrid()).setBqual(b.xid.bqual()).setResourceId(b.db.resourceId())).build());
    }

    // ------------------------------------------------------------------ commands

    private void onCommand(PhaseCommand c, int s) {
        TmXid xid;
        try {
            xid = new TmXid(c.getGtrid(), c.getBqual());
        } catch (IllegalArgumentException e) {
            violations.add("command with an invalid xid: " + c);
            return;
        }
        received.add(new Received(c.getAction(), xid, s, System.nanoTime()));
        log.info("{}: <- {} {}", agentId, c.getAction(), xid);
        if (c.getAction() == PhaseAction.COMMIT) {
            synchronized (heldCommits) {
                if (holdCommits) {
                    heldCommits.add(c);
                    return;
                }
            }
        }
        dispatch(c);
    }

    private void dispatch(PhaseCommand c) {
        TmXid xid = new TmXid(c.getGtrid(), c.getBqual());
        serially(xid, () -> execute(c).ifPresent(this::send));
    }

    /**
     * Runs {@code c} now (still serialised with the stream's commands for that branch) and returns
     * the answer instead of sending it: lets a test check the agent's XA mechanics without a server.
     */
    public Optional<AgentMessage> handle(PhaseCommand c, Duration timeout) throws Exception {
        CompletableFuture<Optional<AgentMessage>> answer = new CompletableFuture<>();
        serially(new TmXid(c.getGtrid(), c.getBqual()), () -> answer.complete(execute(c)));
        return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Per-branch serialisation: each branch's commands run one after the other, branches in parallel. */
    private void serially(TmXid xid, Runnable task) {
        tails.compute(xid, (k, prev) -> (prev == null ? CompletableFuture.<Void>completedFuture(null) : prev)
                .thenRunAsync(() -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.error("{}: command for {} failed", agentId, xid, e);
                    }
                }, workers));
    }

    private Optional<AgentMessage> execute(PhaseCommand c) {
        TmXid xid = new TmXid(c.getGtrid(), c.getBqual());
        return switch (c.getAction()) {
            case PREPARE -> prepare(xid);
            case COMMIT -> commit(xid);
            case ROLLBACK -> rollback(xid);
            case COMMIT_ONE_PHASE -> commitOnePhase(xid);
            case CAN_COMMIT -> canCommit(xid, c.getParticipantTimeoutMs());
            case PRE_COMMIT -> preCommit(xid, c.getParticipantTimeoutMs());
            default -> {
                violations.add("unknown action " + c.getAction() + " for " + xid);
                yield Optional.empty();
            }
        };
    }

    private Optional<AgentMessage> prepare(TmXid xid) {
        if (ignorePrepare.contains(xid)) {
            log.info("{}: ignoring PREPARE {} (knob)", agentId, xid);
            return Optional.empty();
        }
        Branch b = branches.get(xid);
        if (b == null) {
            return vote(xid, BranchVote.NO, "unknown branch");
        }
        if (!sameProtocol(b, PhaseAction.PREPARE)) {
            return Optional.empty();
        }
        switch (b.state) {
            case ACTIVE -> {
                if (voteNo.contains(xid)) {
                    b.rollbackActive();
                    return vote(xid, BranchVote.NO, "told to vote NO");
                }
                try {
                    b.xa().end(xid, XAResource.TMSUCCESS);
                    b.xa().prepare(xid);
                    b.state = BranchState.PREPARED;
                    if (crashHere(CrashPoint.AGENT_AFTER_PREPARE, xid)) {
                        return Optional.empty();
                    }
                } catch (XAException | SQLException e) {
                    // A failed PREPARE leaves nothing prepared on either database (PostgreSQL turns it into a
                    // rollback); make sure and vote NO.
                    b.rollbackActive();
                    return vote(xid, BranchVote.NO, "prepare failed: " + describe(e));
                }
            }
            case PREPARED -> {
                // A resend: already prepared, the answer is YES again.
            }
            case ROLLED_BACK -> {
                return vote(xid, BranchVote.NO, "branch already rolled back");
            }
            case COMMITTED, IN_DOUBT -> {
                violations.add("PREPARE for " + xid + " in state " + b.state);
                return Optional.empty();
            }
        }
        if (withholdVote.contains(xid)) {
            log.info("{}: prepared {} but withholding the vote (knob)", agentId, xid);
            return Optional.empty();
        }
        return vote(xid, BranchVote.YES, "");
    }

    private Optional<AgentMessage> commit(TmXid xid) {
        Branch b = branches.get(xid);
        if (b == null) {
            return commitUnknown(xid);
        }
        b.disarm();
        if (b.decidedOnItsOwn != null) {
            if (b.decidedOnItsOwn == PhaseAction.ROLLBACK) {
                violations.add("COMMIT for " + xid + ", which rolled back on its own after CAN_COMMIT (it was never pre-committed)");
            }
            return ownDecision(b);
        }
        switch (b.state) {
            case COMMITTED -> {
                return ack(xid, PhaseAction.COMMIT, AckResult.DONE);
            }
            case ACTIVE, ROLLED_BACK, IN_DOUBT -> {
                if (b.protocol == PhaseAction.CAN_COMMIT && !b.preCommitted) {
                    violations.add("COMMIT for " + xid + ", never pre-committed (state " + b.state + ")");
                    return Optional.empty();
                }
                violations.add("COMMIT for " + xid + " in state " + b.state);
                return Optional.empty();
            }
            case PREPARED -> {
                try {
                    b.commitPrepared();
                } catch (XAException e) {
                    if (e.errorCode != XAException.XAER_NOTA) {
                        // Not applied; the server resends. A broken connection is dropped so the retry
                        // runs on a fresh one (the prepared branch survives the disconnect).
                        log.warn("{}: COMMIT {} failed, will retry on resend: {}", agentId, xid, describe(e));
                        b.closeConnection();
                        return Optional.empty();
                    }
                    // XAER_NOTA: the server only commits after a durable decision, so it is done.
                } catch (SQLException e) {
                    log.warn("{}: COMMIT {} failed, will retry on resend: {}", agentId, xid, describe(e));
                    b.closeConnection();
                    return Optional.empty();
                }
                b.finish(BranchState.COMMITTED);
                if (crashHere(CrashPoint.AGENT_BEFORE_COMMIT_ACK, xid)) {
                    return Optional.empty();
                }
                return ack(xid, PhaseAction.COMMIT, AckResult.DONE);
            }
        }
        throw new AssertionError(b.state);
    }

    /** COMMIT for a branch we do not know (e.g. forgotten in a restart): commit by xid wherever it is. */
    private Optional<AgentMessage> commitUnknown(TmXid xid) {
        for (TestDb db : dbs.values()) {
            try {
                XAConnection xa = db.openXa();
                try {
                    xa.getXAResource().commit(xid, false);
                    return ack(xid, PhaseAction.COMMIT, AckResult.DONE);
                } finally {
                    xa.close();
                }
            } catch (XAException e) {
                if (e.errorCode != XAException.XAER_NOTA) {
                    log.warn("{}: COMMIT of unknown {} on {} failed: {}", agentId, xid, db, describe(e));
                    return Optional.empty();
                }
            } catch (SQLException e) {
                log.warn("{}: COMMIT of unknown {} on {} failed: {}", agentId, xid, db, describe(e));
                return Optional.empty();
            }
        }
        return ack(xid, PhaseAction.COMMIT, AckResult.DONE);
    }

    private Optional<AgentMessage> rollback(TmXid xid) {
        Branch b = branches.get(xid);
        if (b == null) {
            for (TestDb db : dbs.values()) {
                if (!rollbackByXid(db, xid)) {
                    return Optional.empty();
                }
            }
            return ack(xid, PhaseAction.ROLLBACK, AckResult.DONE);
        }
        b.disarm();
        if (b.decidedOnItsOwn == PhaseAction.COMMIT) {
            // Only a partition or a coordinator down longer than the participant timers gets here
            // (the coordinator's own PRE_COMMIT timeout is shorter than the participant's).
            violations.add("ROLLBACK for " + xid + ", which committed on its own after PRE_COMMIT (3PC's hazard: the participants decided apart)");
            return ack(xid, PhaseAction.ROLLBACK, AckResult.HEURISTIC_COMMIT);
        }
        if (b.decidedOnItsOwn == PhaseAction.ROLLBACK) {
            return ownDecision(b);
        }
        switch (b.state) {
            case ROLLED_BACK -> {
                return ack(xid, PhaseAction.ROLLBACK, AckResult.DONE);
            }
            case COMMITTED, IN_DOUBT -> {
                violations.add("ROLLBACK for " + xid + " in state " + b.state);
                return Optional.empty();
            }
            case ACTIVE -> {
                b.rollbackActive();
                return ack(xid, PhaseAction.ROLLBACK, AckResult.DONE);
            }
            case PREPARED -> {
                boolean done;
                if (b.hasConnection()) {
                    try {
                        b.xa().rollback(xid);
                        done = true;
                    } catch (XAException e) {
                        done = e.errorCode == XAException.XAER_NOTA;
                        if (!done) {
                            log.warn("{}: ROLLBACK {} failed, will retry on resend: {}", agentId, xid, describe(e));
                        }
                    } catch (SQLException e) {
                        log.warn("{}: ROLLBACK {} failed, will retry on resend: {}", agentId, xid, describe(e));
                        done = false;
                    }
                } else {
                    done = rollbackByXid(b.db, xid);
                }
                if (!done) {
                    b.closeConnection();
                    return Optional.empty();
                }
                b.finish(BranchState.ROLLED_BACK);
                return ack(xid, PhaseAction.ROLLBACK, AckResult.DONE);
            }
        }
        throw new AssertionError(b.state);
    }

    /** Rollback by xid on a fresh connection; XAER_NOTA means there is nothing (left) to roll back. */
    private boolean rollbackByXid(TestDb db, TmXid xid) {
        try {
            XAConnection xa = db.openXa();
            try {
                xa.getXAResource().rollback(xid);
            } finally {
                xa.close();
            }
            return true;
        } catch (XAException e) {
            if (e.errorCode == XAException.XAER_NOTA) {
                return true;
            }
            log.warn("{}: ROLLBACK {} on {} failed: {}", agentId, xid, db, describe(e));
            return false;
        } catch (SQLException e) {
            log.warn("{}: ROLLBACK {} on {} failed: {}", agentId, xid, db, describe(e));
            return false;
        }
    }

    private Optional<AgentMessage> commitOnePhase(TmXid xid) {
        Branch b = branches.get(xid);
        if (b == null) {
            // Never held, or an unprepared branch that died with its session: nothing was committed.
            return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD);
        }
        switch (b.state) {
            case COMMITTED -> {
                return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.DONE);
            }
            case ROLLED_BACK -> {
                return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD);
            }
            case PREPARED, IN_DOUBT -> {
                violations.add("COMMIT_ONE_PHASE for " + xid + " in state " + b.state);
                return Optional.empty();
            }
            case ACTIVE -> {
                try {
                    b.xa().end(xid, XAResource.TMSUCCESS);
                } catch (XAException | SQLException e) {
                    b.rollbackActive();
                    return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD);
                }
                try {
                    b.xa().commit(xid, true);
                } catch (XAException e) {
                    if (e.errorCode >= XAException.XA_RBBASE && e.errorCode <= XAException.XA_RBEND) {
                        b.finish(BranchState.ROLLED_BACK);
                        return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD);
                    }
                    // The database may or may not have committed: do not guess.
                    log.warn("{}: one-phase COMMIT {} outcome unknown: {}", agentId, xid, describe(e));
                    b.finish(BranchState.IN_DOUBT);
                    return Optional.empty();
                } catch (SQLException e) {
                    log.warn("{}: one-phase COMMIT {} outcome unknown: {}", agentId, xid, describe(e));
                    b.finish(BranchState.IN_DOUBT);
                    return Optional.empty();
                }
                b.finish(BranchState.COMMITTED);
                return ack(xid, PhaseAction.COMMIT_ONE_PHASE, AckResult.DONE);
            }
        }
        throw new AssertionError(b.state);
    }

    // ------------------------------------------------------------------ three-phase commit

    /** CAN_COMMIT: a question. Nothing durable changes (the branch stays active); a YES starts the timer. */
    private Optional<AgentMessage> canCommit(TmXid xid, long participantTimeoutMs) {
        Branch b = branches.get(xid);
        if (b == null) {
            return vote(xid, PhaseAction.CAN_COMMIT, BranchVote.NO, "unknown branch");
        }
        if (b.decidedOnItsOwn != null) {
            return ownDecision(b);
        }
        if (!sameProtocol(b, PhaseAction.CAN_COMMIT)) {
            return Optional.empty();
        }
        switch (b.state) {
            case ACTIVE -> {
                if (voteNo.contains(xid)) {
                    b.rollbackActive();
                    return vote(xid, PhaseAction.CAN_COMMIT, BranchVote.NO, "told to vote NO");
                }
                if (!b.hasConnection()) {
                    return vote(xid, PhaseAction.CAN_COMMIT, BranchVote.NO, "its session is gone");
                }
                b.willing = true;
                arm(b, PhaseAction.CAN_COMMIT, participantTimeoutMs);
                Optional<AgentMessage> yes = vote(xid, PhaseAction.CAN_COMMIT, BranchVote.YES, "");
                if (crashAt == CrashPoint.AGENT_AFTER_CAN_COMMIT) {
                    yes.ifPresent(this::send); // this crash point dies after the answer is out
                    crashHere(CrashPoint.AGENT_AFTER_CAN_COMMIT, xid);
                    return Optional.empty();
                }
                return yes;
            }
            case ROLLED_BACK -> {
                return vote(xid, PhaseAction.CAN_COMMIT, BranchVote.NO, "branch already rolled back");
            }
            default -> {
                violations.add("CAN_COMMIT for " + xid + " in state " + b.state);
                return Optional.empty();
            }
        }
    }

    /** PRE_COMMIT: XA END + PREPARE; a YES (prepared) starts the timer that commits on its own. */
    private Optional<AgentMessage> preCommit(TmXid xid, long participantTimeoutMs) {
        Branch b = branches.get(xid);
        if (b != null && b.decidedOnItsOwn != null) {
            return ownDecision(b);
        }
        if (ignorePrepare.contains(xid)) {
            log.info("{}: ignoring PRE_COMMIT {} (knob)", agentId, xid);
            return Optional.empty();
        }
        if (b == null) {
            // Not in memory and not found by XA RECOVER: it died unprepared with its session.
            return vote(xid, PhaseAction.PRE_COMMIT, BranchVote.NO, "unknown branch");
        }
        if (!sameProtocol(b, PhaseAction.CAN_COMMIT)) {
            return Optional.empty();
        }
        b.disarm();
        switch (b.state) {
            case ACTIVE -> {
                if (!b.willing) {
                    violations.add("PRE_COMMIT for " + xid + ", which never answered YES to CAN_COMMIT");
                    return Optional.empty();
                }
                try {
                    b.xa().end(xid, XAResource.TMSUCCESS);
                    b.xa().prepare(xid);
                    b.state = BranchState.PREPARED;
                    b.preCommitted = true;
                    if (crashHere(CrashPoint.AGENT_AFTER_PREPARE, xid)) {
                        return Optional.empty();
                    }
                } catch (XAException | SQLException e) {
                    b.rollbackActive();
                    return vote(xid, PhaseAction.PRE_COMMIT, BranchVote.NO, "prepare failed: " + describe(e));
                }
            }
            case PREPARED -> b.preCommitted = true; // a resend, or a branch found by XA RECOVER: YES again
            case ROLLED_BACK -> {
                return vote(xid, PhaseAction.PRE_COMMIT, BranchVote.NO, "branch already rolled back");
            }
            case COMMITTED, IN_DOUBT -> {
                violations.add("PRE_COMMIT for " + xid + " in state " + b.state);
                return Optional.empty();
            }
        }
        if (withholdVote.contains(xid)) {
            log.info("{}: pre-committed {} but withholding the vote (knob)", agentId, xid);
            return Optional.empty();
        }
        arm(b, PhaseAction.PRE_COMMIT, participantTimeoutMs);
        return vote(xid, PhaseAction.PRE_COMMIT, BranchVote.YES, "");
    }

    /** A branch gets the commands of one protocol only: PREPARE (2PC) or CAN_COMMIT / PRE_COMMIT (3PC). */
    private boolean sameProtocol(Branch b, PhaseAction family) {
        if (b.protocol == null) {
            b.protocol = family; // a branch found by XA RECOVER has none yet
        } else if (b.protocol != family) {
            violations.add((family == PhaseAction.PREPARE ? "PREPARE" : "a 3PC command") + " for " + b.xid
                    + ", which already got " + (b.protocol == PhaseAction.PREPARE ? "PREPARE (2PC)" : "CAN_COMMIT (3PC)"));
            return false;
        }
        return true;
    }

    /** Starts the participant's timer for the YES just given to {@code answered}; a previous one is disarmed. */
    private void arm(Branch b, PhaseAction answered, long timeoutMs) {
        b.disarm();
        if (timeoutMs <= 0) {
            violations.add(answered + " for " + b.xid + " without a participant timeout");
            return;
        }
        int generation = b.timerGeneration;
        try {
            b.timer = scheduler.schedule(() -> serially(b.xid, () -> timerRanOut(b, answered, generation)),
                    timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException dead) {
            // crashed or closed: a dead agent decides nothing
        }
    }

    /** Runs serialised with the branch's commands: a command that got there first disarmed it (generation). */
    private void timerRanOut(Branch b, PhaseAction answered, int generation) {
        if (closed || generation != b.timerGeneration) {
            return;
        }
        if (answered == PhaseAction.CAN_COMMIT && b.state == BranchState.ACTIVE) {
            log.info("{}: no PRE_COMMIT for {} within its CAN_COMMIT timeout: rolling back on its own", agentId, b.xid);
            b.rollbackActive();
            decidedAlone(b, PhaseAction.ROLLBACK);
        } else if (answered == PhaseAction.PRE_COMMIT && b.state == BranchState.PREPARED) {
            log.info("{}: no decision for {} within its PRE_COMMIT timeout: committing on its own", agentId, b.xid);
            try {
                b.commitPrepared();
            } catch (XAException e) {
                if (e.errorCode == XAException.XAER_NOTA) {
                    violations.add("own COMMIT of " + b.xid + " found nothing prepared: someone else finished it");
                    return;
                }
                retryOwnCommit(b, e);
                return;
            } catch (SQLException e) {
                retryOwnCommit(b, e);
                return;
            }
            b.finish(BranchState.COMMITTED);
            decidedAlone(b, PhaseAction.COMMIT);
        }
    }

    private void retryOwnCommit(Branch b, Exception e) {
        log.warn("{}: own COMMIT of {} failed, retrying: {}", agentId, b.xid, describe(e));
        b.closeConnection();
        arm(b, PhaseAction.PRE_COMMIT, 500);
    }

    private void decidedAlone(Branch b, PhaseAction action) {
        b.decidedOnItsOwn = action;
        ownDecisions.add(new OwnDecision(b.xid, action));
        unreported.add(b.xid);
        ownDecision(b).filter(this::send).ifPresent(sent -> unreported.remove(b.xid));
    }

    /** On every connect: the own decisions the server has not been sent yet. */
    private void reportOwnDecisions() {
        for (TmXid xid : unreported) {
            serially(xid, () -> ownDecision(branches.get(xid)).filter(this::send).ifPresent(sent -> unreported.remove(xid)));
        }
    }

    /** The report of an own decision: also the answer to every later command for that branch. */
    private Optional<AgentMessage> ownDecision(Branch b) {
        log.info("{}: -> own decision {} {}", agentId, b.decidedOnItsOwn, b.xid);
        return Optional.of(AgentMessage.newBuilder().setAck(Ack.newBuilder().setGtrid(b.xid.gtrid()).setBqual(b.xid.bqual())
                .setAction(b.decidedOnItsOwn).setResult(AckResult.DONE).setAutonomous(true)).build());
    }

    // ------------------------------------------------------------------ messages

    /** A 2PC vote, as a 2PC-only agent sends it: {@code answering} unset means PREPARE. */
    private Optional<AgentMessage> vote(TmXid xid, BranchVote v, String detail) {
        return vote(xid, null, v, detail);
    }

    private Optional<AgentMessage> vote(TmXid xid, PhaseAction answering, BranchVote v, String detail) {
        log.info("{}: -> vote {} {} {} {}", agentId, answering == null ? "" : answering, v, xid, detail);
        Vote.Builder vote = Vote.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setVote(v).setDetail(detail);
        if (answering != null) {
            vote.setAnswering(answering);
        }
        return Optional.of(AgentMessage.newBuilder().setVote(vote).build());
    }

    private Optional<AgentMessage> ack(TmXid xid, PhaseAction action, AckResult result) {
        log.info("{}: -> ack {} {} {}", agentId, action, result, xid);
        return Optional.of(AgentMessage.newBuilder().setAck(Ack.newBuilder()
                .setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(action).setResult(result)).build());
    }

    private static String describe(Exception e) {
        if (e instanceof XAException xa) {
            return "XAException errorCode=" + xa.errorCode + " " + xa.getMessage();
        }
        return e.toString();
    }

    // ------------------------------------------------------------------ life cycle

    /**
     * Dies like a killed process: the stream and every database session just vanish, nothing is
     * rolled back or told. Prepared branches survive in the databases; unprepared ones
     * die with their sessions.
     */
    public void crash() {
        closed = true;
        channel.shutdownNow();
        for (Branch b : branches.values()) {
            b.closeConnection();
        }
        workers.shutdownNow();
        scheduler.shutdownNow();
    }

    /** Closes the stream and every connection (unprepared branches roll back with their sessions). */
    @Override
    public void close() {
        closed = true;
        synchronized (streamLock) {
            if (outbound != null) {
                try {
                    outbound.onCompleted();
                } catch (RuntimeException ignored) {
                    // already broken
                }
                outbound = null;
            }
        }
        scheduler.shutdownNow();
        Channels.shutdown(channel);
        workers.shutdownNow();
        for (Branch b : branches.values()) {
            b.closeConnection();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** One XA branch this agent holds: its xid, its database and the session that started it. */
    public final class Branch {
        private final TmXid xid;
        private final TestDb db;
        private XAConnection xaConnection; // guarded by this; null when closed or recovered
        private volatile BranchState state = BranchState.ACTIVE;
        // 3PC. Touched only by this branch's serialised tasks (commands and its timer's expiry).
        /** The first phase-1 command it got: PREPARE (2PC) or CAN_COMMIT (3PC); null until then. */
        private volatile PhaseAction protocol;
        private volatile boolean willing;
        private volatile boolean preCommitted;
        private volatile PhaseAction decidedOnItsOwn;
        private volatile ScheduledFuture<?> timer;
        private volatile int timerGeneration;

        private Branch(TmXid xid, TestDb db, XAConnection xaConnection) {
            this.xid = xid;
            this.db = db;
            this.xaConnection = xaConnection;
        }

        public TmXid xid() {
            return xid;
        }

        public TestDb db() {
            return db;
        }

        public BranchState state() {
            return state;
        }

        /** 3PC: COMMIT or ROLLBACK if this agent decided the branch alone when its timer ran out, else null. */
        public PhaseAction decidedOnItsOwn() {
            return decidedOnItsOwn;
        }

        /** Stops the participant timer: a later command for the branch arrived. */
        void disarm() {
            timerGeneration++;
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
                timer = null;
            }
        }

        /** Runs one DML statement inside the branch. */
        public int update(String sql, Object... params) throws SQLException {
            Connection c;
            synchronized (this) {
                if (xaConnection == null) {
                    throw new IllegalStateException("branch " + xid + " has no connection");
                }
                c = xaConnection.getConnection();
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    ps.setObject(i + 1, params[i]);
                }
                return ps.executeUpdate();
            }
        }

        /** Convenience for the tests: one row in the test table. */
        public void insert(String table, long id, String note) throws SQLException {
            update("INSERT INTO " + table + " (id, note) VALUES (?, ?)", id, note);
        }

        synchronized boolean hasConnection() {
            return xaConnection != null;
        }

        synchronized XAResource xa() throws SQLException {
            if (xaConnection == null) {
                throw new SQLException("branch " + xid + " has no connection");
            }
            return xaConnection.getXAResource();
        }

        /** COMMIT on the preparing session when we still have it, else by xid on a fresh one. */
        void commitPrepared() throws XAException, SQLException {
            if (hasConnection()) {
                xa().commit(xid, false);
                return;
            }
            XAConnection fresh = db.openXa();
            try {
                fresh.getXAResource().commit(xid, false);
            } finally {
                fresh.close();
            }
        }

        /** End and roll back an unprepared branch; if the database refuses, closing the session does it. */
        void rollbackActive() {
            try {
                XAResource r = xa();
                try {
                    r.end(xid, XAResource.TMFAIL);
                } catch (XAException alreadyEnded) {
                    // Ended before (e.g. a failed prepare): rolling back is what matters.
                }
                r.rollback(xid);
            } catch (XAException | SQLException e) {
                log.info("{}: rollback of active {} failed ({}); closing its session rolls it back", agentId, xid, describe(e));
            }
            finish(BranchState.ROLLED_BACK);
        }

        void finish(BranchState end) {
            state = end;
            closeConnection();
        }

        synchronized void closeConnection() {
            if (xaConnection != null) {
                try {
                    xaConnection.close();
                } catch (SQLException ignored) {
                    // The session is gone either way.
                }
                xaConnection = null;
            }
        }

        @Override
        public String toString() {
            return xid + "@" + db.resourceId() + ":" + state;
        }
    }
}
