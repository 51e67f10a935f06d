package dev.xatm.server.it;

import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantConfig;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.core.participant.XaOp;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ProtocolError;
import dev.xatm.protocol.v1.Welcome;
import dev.xatm.testkit.TestDb;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An agent for the tests that holds REAL XA branches on PostgreSQL and MariaDB and speaks the agent
 * side of the wire protocol through the real participant core ({@link Participant}, tm-core), the
 * same state machine the seeded simulation runs: every protocol decision -- what to answer, when to
 * roll back, 3PC's timers and own decisions, inquiries on (re)connect and after XA RECOVER, what
 * XAER_NOTA means, read-only votes, deferral while the test's code runs a statement, rolling back a
 * lost stream's unprepared branches -- is the core's. This class and its helpers only drive it:
 * {@link AgentStream} (the gRPC stream), {@link ParticipantDriver} (events in, effects out, threads
 * and timers), {@link XaSessions} (the XA calls), {@link WireMessages} (the wire's vocabulary).
 *
 * <p>Misbehaviour is switched on per instance, per branch, and is always a fault of the transport or
 * the process ({@link AgentFaults}): a command lost on the way in, a vote lost on the way out, COMMITs
 * held in the pipe, a stream loss that goes unnoticed, a crash at a given point. Everything received
 * is recorded, and what the core calls a problem (a command the protocol never sends, such as COMMIT
 * for an unprepared or rolled-back branch, ROLLBACK for a committed one) is collected as
 * {@link #violations()}, with what {@link ServerCommandChecks} finds (2PC and 3PC mixed on a branch,
 * PRE_COMMIT without a YES to CAN_COMMIT, a 3PC command without a participant timeout).
 *
 * <p>Thread-safe. The test's code runs SQL through {@link Branch#update}, one statement at a time, as a
 * business method would.
 */
public final class TestAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestAgent.class);
    /** A prepared branch nobody spoke of for this long is asked about again by {@link #inquireAgain()}. */
    private static final long REINQUIRE_MILLIS = 1000;

    /** A branch's state as the tests read it, from the core's {@link dev.xatm.core.participant.BranchState}. */
    public enum BranchState { ACTIVE, PREPARED, COMMITTED, ROLLED_BACK, READ_ONLY, IN_DOUBT }

    /**
     * Where this agent's process dies on purpose ({@link #crashAt}), the agent side of the crash-point
     * switch (the server's is {@code tm.server.crash-point}). Each fires once, for the first branch
     * that reaches it, and the agent then dies exactly as {@link #crash()} does.
     */
    public enum CrashPoint {
        /** The branch is prepared in its database (XA PREPARE returned); the YES vote is never sent. */
        AGENT_AFTER_PREPARE,
        /** The branch is committed in its database (XA COMMIT returned); the acknowledgement is never sent. */
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
    private final ExecutorService workers;
    private final ScheduledExecutorService scheduler;
    private final XaSessions sessions;
    private final AgentStream stream;
    private final ParticipantDriver driver;
    private final AgentFaults faults = new AgentFaults();
    private final AgentObservations seen = new AgentObservations();
    private final ConcurrentHashMap<TmXid, Branch> begun = new ConcurrentHashMap<>();
    private final Switchboard switchboard;
    private final CompletableFuture<TmXid> crashed = new CompletableFuture<>();

    /**
     * @param gtridPrefix only prepared xids whose gtrid is {@code gtridPrefix + "-..."} are this agent's: XA RECOVER
     *                    shows it no others, which keeps concurrent test runs on the same database servers apart
     */
    public TestAgent(String agentId, String target, String token, String gtridPrefix, List<TestDb> resources) {
        this.agentId = agentId;
        this.switchboard = new Switchboard(agentId, target, faults, seen, this::die);
        this.instanceSecret = secretFor(agentId);
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, agentId + "-worker-" + n.incrementAndGet()));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, agentId + "-timers"));
        this.sessions = new XaSessions(agentId, gtridPrefix, resources);
        // read-only votes on, as ParticipantConfig.of has them (a branch no statement ran on votes READ_ONLY);
        // no cluster id: XA RECOVER shows this agent only its own test's xids (XaSessions)
        ParticipantConfig config = new ParticipantConfig(agentId, sessions.resourceIds(), true, REINQUIRE_MILLIS, null, false);
        this.driver = new ParticipantDriver(new Participant(config), sessions, new SerialQueues(workers), scheduler,
                switchboard::send, this::diesAfter, new ParticipantDriver.Record() {
                    @Override
                    public void decided(dev.xatm.core.participant.OwnDecision d) {
                        seen.ownDecisions.add(new OwnDecision(xid(d.key()), WireMessages.action(d.decision())));
                    }

                    @Override
                    public void problem(String p) {
                        seen.violations.add(p);
                    }
                });
        this.stream = new AgentStream(agentId, target, token, () -> instanceSecret, scheduler, switchboard);
        switchboard.connect(stream, driver);
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

    /** Misbehaves: sends {@code message} on the stream as it is (a vote for a branch another agent holds...). False when not connected. */
    public boolean sendRaw(AgentMessage message) {
        return stream.send(message);
    }

    /** Opens the stream (and keeps reopening it until {@link #close()}). */
    public TestAgent start() {
        stream.connect();
        return this;
    }

    // ------------------------------------------------------------------ branches (the business side)

    /** XA START of a new branch on {@code db}, registered with this agent's server; the test then writes through {@link Branch#update}. */
    public Branch begin(TestDb db, String gtrid, String bqual) throws SQLException, XAException {
        TmXid xid = new TmXid(gtrid, bqual);
        if (begun.containsKey(xid) || driver.state(XaSessions.key(xid)).isPresent()) {
            throw new IllegalStateException("branch " + xid + " already exists in agent " + agentId);
        }
        sessions.start(xid, db);
        Branch b = new Branch(xid, db);
        begun.put(xid, b);
        switchboard.begun(xid);
        driver.feed(new ParticipantEvent.Enlisted(XaSessions.key(xid), db.resourceId(), switchboard.server()));
        driver.feed(new ParticipantEvent.Released(XaSessions.key(xid), false, false)); // XA START's own scope ends
        return b;
    }

    public Optional<Branch> branch(TmXid xid) {
        return Optional.ofNullable(begun.get(xid));
    }

    /** The branch's state in the core, or null if it does not remember the branch. */
    public BranchState state(TmXid xid) {
        return driver.state(XaSessions.key(xid)).map(TestAgent::testState).orElse(null);
    }

    private static BranchState testState(dev.xatm.core.participant.BranchState s) {
        if (s instanceof dev.xatm.core.participant.BranchState.Working w) {
            return testState(w.before()); // until its XA calls come back
        }
        if (s instanceof dev.xatm.core.participant.BranchState.Prepared) {
            return BranchState.PREPARED;
        }
        if (s instanceof dev.xatm.core.participant.BranchState.InDoubt) {
            return BranchState.IN_DOUBT;
        }
        if (s instanceof dev.xatm.core.participant.BranchState.Ended e) {
            return switch (e.end()) {
                case COMMITTED, COMMITTED_ON_ITS_OWN, HEURISTIC_COMMIT -> BranchState.COMMITTED;
                case ROLLED_BACK, ROLLED_BACK_ON_ITS_OWN, HEURISTIC_ROLLBACK -> BranchState.ROLLED_BACK;
                case READ_ONLY -> BranchState.READ_ONLY;
                case HEURISTIC_MIXED, HEURISTIC_HAZARD, UNKNOWN -> BranchState.IN_DOUBT;
            };
        }
        return BranchState.ACTIVE; // Active, and 3PC's Willing (ended, nothing durable)
    }

    // ------------------------------------------------------------------ faults

    /** The business code failed on {@code xid}'s branch: the core votes NO at PREPARE (3PC: CAN_COMMIT) and rolls it back. */
    public void voteNo(TmXid xid) {
        BranchKey key = XaSessions.key(xid);
        if (driver.hold(key)) {
            driver.feed(new ParticipantEvent.Released(key, false, true));
        }
    }

    /**
     * PREPARE (3PC: PRE_COMMIT) of {@code xid} is lost on the way in on the current stream, resends
     * included: it is never prepared nor answered, so the answer times out at the server (and in 3PC the
     * CAN_COMMIT timer keeps running). A later stream (a restarted server's) delivers it.
     */
    public void neverAnswerPrepare(TmXid xid) {
        faults.losePhaseOneCommand(xid, stream.session());
    }

    /**
     * The YES to PREPARE (3PC: PRE_COMMIT) of {@code xid} is lost on the way out: the branch is really
     * prepared (and in 3PC its own commit timer runs, as the core arms it with the YES).
     */
    public void withholdVote(TmXid xid) {
        faults.loseVotes(xid);
    }

    /** Back to normal voting; votes withheld so far are simply lost (as if the agent had crashed). */
    public void stopWithholdingVotes() {
        faults.stopLosingVotes();
    }

    /** From now on COMMIT commands are kept in the pipe, not delivered, until {@link #releaseCommits()}. */
    public void holdCommits() {
        faults.holdCommits();
    }

    public int heldCommitCount() {
        return faults.heldCount();
    }

    /** Forgets the COMMITs held so far (they were lost with the stream), keeps holding new ones. */
    public int discardHeldCommits() {
        return faults.discardHeld();
    }

    /** Delivers the held COMMIT of one branch (the others stay held). */
    public boolean releaseCommit(TmXid xid) {
        PhaseCommand c = faults.releaseOne(xid);
        if (c != null) {
            switchboard.deliver(c);
        }
        return c != null;
    }

    /** Stops holding and delivers every COMMIT held so far. */
    public void releaseCommits() {
        for (PhaseCommand c : faults.releaseAll()) {
            switchboard.deliver(c);
        }
    }

    /**
     * The agent does not notice when its stream breaks (a half-open connection, a partition its
     * keepalive has not caught): the core is never told, so its unprepared branches are not rolled back
     * but wait for their 3PC timers. It still reconnects, and the core hears the new stream.
     */
    public void deafToStreamLoss() {
        faults.deafToStreamLoss();
    }

    /**
     * The business code gives up on a branch before (or without knowing whether) its commit was asked:
     * the core rolls it back if it is not prepared, serialised with the server's commands for it.
     * Completes once its XA calls ran.
     */
    public CompletableFuture<Void> rollbackIfActive(TmXid xid) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        driver.feed(new ParticipantEvent.Abandoned(XaSessions.key(xid)));
        driver.afterQueued(XaSessions.key(xid), () -> done.complete(null));
        return done;
    }

    /** Arms a crash point: the agent dies when the first branch reaches it. */
    public void crashAt(CrashPoint point) {
        faults.crashAt(point);
    }

    /** Completes with the branch at which the armed crash point fired. */
    public CompletableFuture<TmXid> crashed() {
        return crashed;
    }

    private boolean diesAfter(XaOp op, BranchKey key) {
        CrashPoint point = op == XaOp.PREPARE ? CrashPoint.AGENT_AFTER_PREPARE
                : op == XaOp.COMMIT ? CrashPoint.AGENT_BEFORE_COMMIT_ACK : null;
        return point != null && faults.fires(point) && die(point, xid(key));
    }

    private boolean die(CrashPoint point, TmXid xid) {
        log.warn("{}: CRASH POINT {} reached at {}: the agent dies now", agentId, point, xid);
        crash();
        crashed.complete(xid);
        return true;
    }

    // ------------------------------------------------------------------ observations

    public boolean isConnected() {
        return stream.isConnected();
    }

    /**
     * The server incarnation of the last Welcome, as a gtrid's owner tag names it; empty on a file
     * store (no node id) or before the first Welcome.
     */
    public Optional<GtridOwner> owner() {
        Welcome w = switchboard.welcome();
        return w == null || w.getNodeId() == 0 ? Optional.empty() : Optional.of(new GtridOwner(w.getNodeId(), w.getEpoch()));
    }

    /** How many Welcomes this agent got: one per successful (re)connect. */
    public int welcomes() {
        return seen.welcomes.get();
    }

    public int inquiriesSent() {
        return seen.inquiriesSent.get();
    }

    public List<Received> received() {
        return List.copyOf(seen.received);
    }

    /** 3PC: every branch this agent decided alone when its participant timer ran out, in order. */
    public List<OwnDecision> decidedOnTheirOwn() {
        return List.copyOf(seen.ownDecisions);
    }

    /** When {@code action} for {@code xid} first arrived (System.nanoTime), or -1. */
    public long firstReceivedNanos(TmXid xid, PhaseAction action) {
        return seen.firstReceivedNanos(xid, action);
    }

    public List<PhaseAction> actionsFor(TmXid xid) {
        return seen.actionsFor(xid);
    }

    /** What the core called a problem (commands the protocol never sends), and messages the agent cannot read; empty from a correct server. */
    public List<String> violations() {
        return List.copyOf(seen.violations);
    }

    public List<ProtocolError> protocolErrors() {
        return List.copyOf(seen.protocolErrors);
    }

    // ------------------------------------------------------------------ the stream

    /**
     * Asks again about the prepared branches XA RECOVER lists and nobody spoke of for a second, as the
     * agent's recovery sweep does (a server that could not answer yet: the owner may still decide).
     */
    public void inquireAgain() {
        driver.feed(new ParticipantEvent.Sweep(ParticipantDriver.nowMillis()));
    }

    /**
     * Hands {@code c} to the core as if it came from a server, and returns the answer instead of
     * sending it: lets a test check the XA mechanics without a server. Empty if the core answers nothing.
     */
    public Optional<AgentMessage> handle(PhaseCommand c, Duration timeout) throws Exception {
        return switchboard.handle(c, timeout);
    }

    // ------------------------------------------------------------------ life cycle

    /**
     * Dies like a killed process: the stream and every database session just vanish, nothing is
     * rolled back or told. Prepared branches survive in the databases; unprepared ones die with their
     * sessions. A new agent of the same id starts from nothing (no journal of own decisions is kept).
     */
    public void crash() {
        driver.stop();
        stream.kill();
        sessions.closeAll();
        workers.shutdownNow();
        scheduler.shutdownNow();
    }

    /** Closes the stream and every session (unprepared branches roll back with their sessions). */
    @Override
    public void close() {
        driver.stop();
        scheduler.shutdownNow();
        stream.close();
        workers.shutdownNow();
        sessions.closeAll();
    }

    private static TmXid xid(BranchKey key) {
        return new TmXid(key.gtrid(), key.bqual());
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** One XA branch this agent started: its xid, its database, and the business code's statements on it. */
    public final class Branch {
        private final TmXid xid;
        private final TestDb db;

        private Branch(TmXid xid, TestDb db) {
            this.xid = xid;
            this.db = db;
        }

        public TmXid xid() {
            return xid;
        }

        public TestDb db() {
            return db;
        }

        public BranchState state() {
            return TestAgent.this.state(xid);
        }

        /** 3PC: COMMIT or ROLLBACK if this agent decided the branch alone when its timer ran out, else null. */
        public PhaseAction decidedOnItsOwn() {
            return seen.ownDecisions.stream().filter(d -> d.xid().equals(xid)).map(OwnDecision::action).findFirst().orElse(null);
        }

        /**
         * Runs one DML statement inside the branch, as one scope of the business code: the core defers a
         * phase command that arrives meanwhile until it is done, and a failed statement dooms the branch
         * (phase 1 votes NO). Refused once the branch is no longer active here (rolled back with a lost
         * stream, say): the statement would run outside any transaction.
         */
        public int update(String sql, Object... params) throws SQLException {
            BranchKey key = XaSessions.key(xid);
            if (!driver.hold(key)) {
                throw new IllegalStateException("branch " + xid + " is no longer active in agent " + agentId + ": " + state());
            }
            boolean failed = true;
            try (var ps = sessions.connection(xid).prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    ps.setObject(i + 1, params[i]);
                }
                int n = ps.executeUpdate();
                failed = false;
                return n;
            } finally {
                driver.feed(new ParticipantEvent.Released(key, true, failed));
            }
        }

        /** Convenience for the tests: one row in the test table. */
        public void insert(String table, long id, String note) throws SQLException {
            update("INSERT INTO " + table + " (id, note) VALUES (?, ?)", id, note);
        }

        @Override
        public String toString() {
            return xid + "@" + db.resourceId() + ":" + state();
        }
    }
}
