package dev.xatm.client.enlist;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * One XA branch this application instance holds: the pooled connection it runs on, the driver's
 * XAResource over it, and one explicit state.
 *
 * <pre>
 *  ACTIVE --PREPARE ok--> PREPARED --COMMIT--> COMMITTED
 *    |  \--COMMIT_ONE_PHASE ok------------------^
 *    |--PREPARE, nothing written--> READ_ONLY (ended and committed in one phase; no phase 2)
 *    |--PREPARE fails / ROLLBACK / 1PC fails--> ROLLED_BACK <--ROLLBACK-- PREPARED
 *    |--PREPARE's answer lost with the connection--> IN_DOUBT --rolled back by xid--> ROLLED_BACK
 *    '--1PC, connection lost: outcome unknown--> UNKNOWN
 *
 *  3PC: ACTIVE --CAN_COMMIT, healthy--> WILLING (XA-ended, nothing durable) --PRE_COMMIT ok--> PREPARED
 *                                          '--ROLLBACK, or its timer--> ROLLED_BACK
 * </pre>
 *
 * <p>Three-phase commit lets a participant decide on its own when its timer runs out (the agent's
 * {@code ParticipantTimers} arm them and call {@link #timerDue}); the branch then remembers that
 * decision ({@link #decidedOnItsOwn()}) and answers every later command with it, so a resent or
 * late command can never turn it around.
 *
 * <p>Threading: business threads use the connection while {@link #holders} &gt; 0 (the scopes that
 * touched the branch have not ended). Phase commands ({@link #execute}) come from the agent's
 * threads; one that would end the branch while it is in use is parked in {@link #deferred} and run
 * when the last holder lets go, so XA END never races a running statement. All state is guarded by
 * {@code this}, which also serialises commands per branch (design notes, agent contract).
 *
 * <p>The connection goes back to the pool when the branch ends (COMMITTED / ROLLED_BACK), never
 * earlier: MariaDB binds a prepared branch to its session, so phase 2 runs on the preparing
 * connection. A connection whose state is doubtful is evicted instead.
 */
public final class Branch {
    private static final Logger log = LoggerFactory.getLogger(Branch.class);

    /**
     * {@code WILLING}: 3PC, answered YES to CAN_COMMIT: XA-ended and healthy, not prepared.
     * {@code IN_DOUBT}: XA PREPARE was sent and its answer lost with the connection, so the database may
     * hold the branch prepared (and its locks). It voted NO; the agent rolls it back by xid on a fresh
     * connection ({@link #finishedByXid}).
     */
    public enum State { ACTIVE, WILLING, PREPARED, COMMITTED, ROLLED_BACK, UNKNOWN, READ_ONLY, IN_DOUBT }

    /** The phase commands of the wire protocol. */
    public enum Command { PREPARE, COMMIT, ROLLBACK, COMMIT_ONE_PHASE, CAN_COMMIT, PRE_COMMIT }

    /**
     * What to tell the coordinator. {@link #NONE}: nothing now (parked, or retry on the next resend).
     * {@link #DECIDED_COMMIT} / {@link #DECIDED_ROLLBACK}: the participant decided the branch on its
     * own (3PC timer); whatever the command, the answer is that report.
     */
    public enum Answer {
        VOTE_YES, VOTE_NO, VOTE_READ_ONLY, DONE, ROLLED_BACK_INSTEAD, NONE, DECIDED_COMMIT, DECIDED_ROLLBACK,
        /**
         * Phase 2 is over, but the database decided the branch on its own (or lost it): reported to the
         * coordinator as the heuristic acknowledgement of the same name, never as {@link #DONE}.
         */
        HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD;

        public boolean isHeuristic() {
            return this == HEURISTIC_COMMIT || this == HEURISTIC_ROLLBACK || this == HEURISTIC_MIXED || this == HEURISTIC_HAZARD;
        }

        /** Whether nothing more can be done for the branch's phase 2: done, or ended by a heuristic. */
        public boolean endsPhaseTwo() {
            return this == DONE || isHeuristic();
        }
    }

    /** How long CAN_COMMIT waits for the database to confirm the connection works (Connection.isValid). */
    private static final int HEALTH_CHECK_SECONDS = 2;

    private final TmXid xid;
    private final EnlistedResource resource;
    private final boolean autoCommitBefore;
    /** Whether a branch that wrote nothing may finish at PREPARE and vote READ_ONLY (tm.client.read-only-votes). */
    private final boolean readOnlyVote;
    /**
     * Set (never cleared) by the business thread before anything that may write runs on the branch
     * ({@link BranchConnection}); read by the agent at PREPARE, after the last holder released the
     * branch under {@code this}, which orders the two. Volatile so marking costs no lock per statement.
     */
    private volatile boolean dirty;
    private Connection connection; // null once given back or discarded
    private XAResource xa;
    private State state = State.ACTIVE;
    private int holders;
    private Command deferred;
    /** Set when a business scope failed or a local rollback() ran: phase 1 must vote NO. */
    private String doomReason;
    /**
     * Who rolled the branch back while it was still in the business code's hands, and why, for the
     * error its next statement gets: the coordinator (a parked ROLLBACK) or this service's own agent
     * (its stream broke). Null until then.
     */
    private String rollbackCause;
    private static final String BY_COORDINATOR = "by the coordinator (its deadline passed, another branch failed, or an operator"
            + " rolled it back)";
    private boolean heuristic;
    /** 3PC: how long to wait after a YES before deciding alone, from the last CAN_COMMIT / PRE_COMMIT. */
    private long participantTimeoutMillis;
    /** 3PC: the participant timer armed by the last YES; 0 = none. A timer fires only while it is the armed one. */
    private long armedTimer;
    private static final java.util.concurrent.atomic.AtomicLong TIMERS = new java.util.concurrent.atomic.AtomicLong();
    /** 3PC: what the participant decided on its own (COMMIT or ROLLBACK), or null. Never cleared. */
    private Command decidedOnItsOwn;
    /**
     * Set while the business thread that began the transaction prepares the branch itself and waits
     * for the coordinator's decision (the one-round-trip commit). Meanwhile the agent must not ask the
     * coordinator about the branch: it has not heard of the transaction yet and would say ROLLBACK.
     */
    private boolean committingInCaller;
    /**
     * Whether the coordinator knows the branch (RegisterBranch succeeded). A branch that rides on its
     * caller's commit request is unknown to it until then, so nothing there waits on this agent for it.
     */
    private volatile boolean registered;

    Branch(TmXid xid, EnlistedResource resource, Connection connection, XAResource xa, boolean autoCommitBefore) {
        this(xid, resource, connection, xa, autoCommitBefore, true);
    }

    Branch(TmXid xid, EnlistedResource resource, Connection connection, XAResource xa, boolean autoCommitBefore, boolean readOnlyVote) {
        this.xid = xid;
        this.resource = resource;
        this.connection = connection;
        this.xa = xa;
        this.autoCommitBefore = autoCommitBefore;
        this.readOnlyVote = readOnlyVote;
    }

    public TmXid xid() {
        return xid;
    }

    public EnlistedResource resource() {
        return resource;
    }

    public synchronized State state() {
        return state;
    }

    public synchronized boolean heuristic() {
        return heuristic;
    }

    /** The pooled connection, for the business proxy; only valid while held. */
    synchronized Connection connection() {
        return connection;
    }

    synchronized void hold() {
        holders++;
    }

    /** Something that may write ran (or is about to run) on the branch: it must take part in phase 2. */
    void markDirty() {
        dirty = true;
    }

    /** Whether anything that may write ran on the branch. */
    public boolean isDirty() {
        return dirty;
    }

    /**
     * A scope that used the branch ended; {@code failed} dooms the branch. Returns the parked command
     * to run now that nobody uses the connection, or null.
     */
    synchronized Command release(boolean failed, String why) {
        if (failed) {
            doom(why);
        }
        holders--;
        if (holders == 0 && deferred != null) {
            Command c = deferred;
            deferred = null;
            return c;
        }
        return null;
    }

    /** Marks the branch so that phase 1 votes NO. */
    synchronized void doom(String reason) {
        if (doomReason == null) {
            doomReason = reason;
            log.debug("Branch {} on {} doomed: {}", xid, resource, reason);
        }
    }

    /** Refuses new statements on a branch the coordinator already rolled back or that ended. */
    synchronized void checkUsable() {
        if (rollbackCause != null || state != State.ACTIVE) {
            String what = rollbackCause != null ? "was rolled back " + rollbackCause
                    : state == State.ROLLED_BACK ? "was rolled back " + BY_COORDINATOR
                    : "has ended its branch here (" + state + ")";
            throw new GlobalRollbackException("Global transaction " + xid.gtrid() + " " + what + "; no more work can be done in it on "
                    + resource.beanName());
        }
    }

    /**
     * Rolls the branch back if it is not prepared yet, as a ROLLBACK command would: at once when
     * idle, or when the business code lets go of it (its next statement fails). For the agent, when
     * the coordinator has aborted the transaction without being able to say so (see
     * {@code Agent}). Returns whether the branch was unprepared.
     */
    public synchronized boolean abandonIfUnprepared(String why) {
        if (state != State.ACTIVE && state != State.WILLING) {
            return false;
        }
        log.info("Branch {} on {} rolled back: {}", xid, resource, why);
        rollbackCause = "by this service's agent: " + why;
        rollback();
        return true;
    }

    /** Runs one phase command; idempotent (a resend gets the same answer). */
    public synchronized Answer execute(Command command) {
        return execute(command, 0);
    }

    /**
     * Runs one phase command; {@code participantTimeoutMillis} (&gt; 0 for CAN_COMMIT and PRE_COMMIT)
     * is kept for the timer the agent arms after a YES, also when the command is parked. After the
     * participant decided on its own, every command gets that report.
     */
    public synchronized Answer execute(Command command, long participantTimeoutMillis) {
        if (participantTimeoutMillis > 0) {
            this.participantTimeoutMillis = participantTimeoutMillis;
        }
        if (decidedOnItsOwn != null) {
            return decidedOnItsOwn == Command.COMMIT ? Answer.DECIDED_COMMIT : Answer.DECIDED_ROLLBACK;
        }
        return switch (command) {
            case PREPARE -> prepare();
            case COMMIT -> commit();
            case ROLLBACK -> rollback();
            case COMMIT_ONE_PHASE -> commitOnePhase();
            case CAN_COMMIT -> canCommit();
            case PRE_COMMIT -> preCommit();
        };
    }

    /**
     * 3PC's first question, which changes nothing durable: is the branch ended cleanly and healthy?
     * Not doomed, the connection still answers, XA END succeeds. A branch that wrote nothing finishes
     * now and answers READ_ONLY, as at PREPARE. A NO rolls the branch back at once: the coordinator
     * aborts on it anyway, and the locks go now.
     */
    private Answer canCommit() {
        switch (state) {
            case WILLING, PREPARED, COMMITTED:
                return Answer.VOTE_YES; // a resend, or a late one: it is (or was) as healthy as it gets
            case READ_ONLY:
                return Answer.VOTE_READ_ONLY;
            case ROLLED_BACK, UNKNOWN, IN_DOUBT:
                return Answer.VOTE_NO;
            default:
                break;
        }
        if (parked(Command.CAN_COMMIT)) {
            return Answer.NONE;
        }
        if (doomReason != null) {
            log.info("Branch {} on {} answers NO to CAN_COMMIT: {}", xid, resource, doomReason);
            rollbackActive();
            return Answer.VOTE_NO;
        }
        if (readOnlyVote && !dirty && resource.dialect().confirmsNothingWritten(connection)) {
            return finishReadOnly();
        }
        if (!connectionAnswers()) {
            log.info("Branch {} on {} answers NO to CAN_COMMIT: its connection no longer answers", xid, resource);
            rollbackActive();
            return Answer.VOTE_NO;
        }
        try {
            xa.end(xid, XAResource.TMSUCCESS);
        } catch (XAException e) {
            log.warn("XA END of branch {} on {} failed, answering NO to CAN_COMMIT: {}", xid, resource, XaErrorClassifier.describe(e));
            rollbackActive();
            return Answer.VOTE_NO;
        }
        state = State.WILLING;
        return Answer.VOTE_YES;
    }

    private boolean connectionAnswers() {
        try {
            return connection != null && connection.isValid(HEALTH_CHECK_SECONDS);
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * 3PC's second step: XA PREPARE (after XA END, which CAN_COMMIT normally did). Unlike PREPARE it
     * never finishes a branch as read-only: a YES here means "prepared", and the coordinator counts on
     * it. A branch that finished read-only at CAN_COMMIT answers YES: it has nothing left to lose.
     */
    private Answer preCommit() {
        return switch (state) {
            case READ_ONLY -> Answer.VOTE_YES;
            case WILLING -> prepareEnded();
            default -> prepare(false, Command.PRE_COMMIT);
        };
    }

    private boolean parked(Command c) {
        if (state == State.ACTIVE && holders > 0) {
            deferred = c;
            if (c == Command.ROLLBACK && rollbackCause == null) {
                rollbackCause = BY_COORDINATOR;
            }
            log.debug("Branch {}: {} parked until the business code releases the connection", xid, c);
            return true;
        }
        return false;
    }

    private Answer prepare() {
        return prepare(readOnlyVote, Command.PREPARE);
    }

    /** PREPARE, or PRE_COMMIT of a branch that skipped CAN_COMMIT ({@code parkAs} is the command to resume). */
    private Answer prepare(boolean mayFinishReadOnly, Command parkAs) {
        switch (state) {
            case PREPARED, COMMITTED:
                return Answer.VOTE_YES;
            case READ_ONLY:
                return Answer.VOTE_READ_ONLY;
            case ROLLED_BACK, UNKNOWN, IN_DOUBT:
                return Answer.VOTE_NO;
            default:
                break;
        }
        if (parked(parkAs)) {
            return Answer.NONE;
        }
        if (doomReason != null) {
            log.info("Branch {} on {} votes NO: {}", xid, resource, doomReason);
            rollbackActive();
            return Answer.VOTE_NO;
        }
        if (mayFinishReadOnly && !dirty && resource.dialect().confirmsNothingWritten(connection)) {
            return finishReadOnly();
        }
        if (state == State.WILLING) {
            return prepareEnded(); // a 2PC PREPARE after CAN_COMMIT: not sent by the rules, harmless
        }
        try {
            xa.end(xid, XAResource.TMSUCCESS);
        } catch (XAException e) {
            log.warn("XA END of branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            rollbackActive();
            return Answer.VOTE_NO;
        }
        return prepareEnded();
    }

    /** XA PREPARE of a branch already XA-ended. */
    private Answer prepareEnded() {
        try {
            xa.prepare(xid); // none of our drivers ever answers XA_RDONLY
            state = State.PREPARED;
            return Answer.VOTE_YES;
        } catch (XAException e) {
            if (XaErrorClassifier.outcomeUnknown(e)) {
                // The database may have run the PREPARE and lost only the answer (a killed connection):
                // a prepared branch outlives its session, with its locks. This connection cannot settle it;
                // the agent rolls it back by xid on a fresh one. Still a NO: nobody may commit on it.
                log.warn("XA PREPARE of branch {} on {} did not answer ({}), voting NO; the branch may be prepared in the "
                        + "database and is rolled back by xid on another connection", xid, resource, XaErrorClassifier.describe(e));
                state = State.IN_DOUBT;
                finish(false);
                return Answer.VOTE_NO;
            }
            // PostgreSQL turns a failed PREPARE into a rollback; MySQL/MariaDB leave it idle or rolled
            // back; a rollback attempt settles all of them.
            log.info("XA PREPARE of branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            try {
                xa.rollback(xid);
            } catch (XAException ignored) {
                // already rolled back, or the connection is gone (then the database rolls it back)
            }
            state = State.ROLLED_BACK;
            finish(false);
            return Answer.VOTE_NO;
        }
    }

    /**
     * The branch wrote nothing (no driver here returns XA_RDONLY, so we decide): end it and
     * commit it in one phase now, which releases its connection and any locks its reads took, and
     * vote READ_ONLY so the coordinator leaves it out of phase 2. Commit rather than roll back: were
     * the dirty tracking ever wrong, the common outcome (global commit) would still keep the write.
     */
    private Answer finishReadOnly() {
        try {
            xa.end(xid, XAResource.TMSUCCESS);
        } catch (XAException e) {
            log.warn("XA END of read-only branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            rollbackActive();
            return Answer.VOTE_NO;
        }
        try {
            xa.commit(xid, true);
        } catch (XAException e) {
            log.warn("One-phase commit of read-only branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            try {
                xa.rollback(xid);
            } catch (XAException ignored) {
                // already rolled back, or the connection is gone (then the database rolls it back)
            }
            state = State.ROLLED_BACK;
            finish(false);
            return Answer.VOTE_NO;
        }
        state = State.READ_ONLY;
        finish(true);
        log.debug("Branch {} on {} wrote nothing: finished at prepare, votes READ_ONLY", xid, resource);
        return Answer.VOTE_READ_ONLY;
    }

    private Answer commit() {
        switch (state) {
            case COMMITTED, READ_ONLY:
                return Answer.DONE; // READ_ONLY: nothing to commit (the coordinator sends none; a stray one is harmless)
            case ACTIVE, WILLING, ROLLED_BACK, UNKNOWN, IN_DOUBT:
                // the coordinator sends COMMIT only to branches that voted YES: this is a bug somewhere
                log.error("COMMIT for branch {} on {} which is {}, not prepared; not acknowledged (heuristic hazard)", xid, resource, state);
                return Answer.NONE;
            default:
                break;
        }
        if (xa == null) {
            return Answer.NONE; // the connection broke earlier; the agent retries by xid on a fresh one
        }
        try {
            xa.commit(xid, false);
            state = State.COMMITTED;
            finish(true);
            return Answer.DONE;
        } catch (XAException e) {
            XaErrorClassifier.Verdict v = XaErrorClassifier.classify(e, XaOperation.COMMIT);
            switch (v) {
                case ALREADY_DONE:
                    // XAER_NOTA on the connection that prepared the branch and never committed it (a commit
                    // that fails lets go of this connection): the branch vanished without our commit, rolled
                    // back by hand, say. What became of its work is unknown.
                    return endHeuristically(Answer.HEURISTIC_HAZARD, XaOperation.COMMIT, e, State.COMMITTED);
                case HEURISTIC:
                    return endHeuristically(XaErrorClassifier.heuristicAnswer(e, XaOperation.COMMIT), XaOperation.COMMIT, e,
                            State.COMMITTED);
                default:
                    log.warn("XA COMMIT of branch {} on {} failed ({}), will retry: {}", xid, resource, v, XaErrorClassifier.describe(e));
                    // the branch stays prepared in the database; a fresh connection can finish it later
                    // (PostgreSQL from any session; MariaDB once this session is gone)
                    finish(false);
                    return Answer.NONE;
            }
        }
    }

    private Answer rollback() {
        switch (state) {
            case ROLLED_BACK, READ_ONLY:
                // READ_ONLY: it wrote nothing, so there is nothing to undo; the coordinator sends a
                // rollback to it only when the abort overtook the vote
                return Answer.DONE;
            case COMMITTED:
                log.error("ROLLBACK for branch {} on {} which already COMMITTED; not acknowledged (heuristic hazard)", xid, resource);
                return Answer.NONE;
            case UNKNOWN, IN_DOUBT:
                return Answer.NONE; // IN_DOUBT: rolled back by xid by the agent, not on this (lost) connection
            default:
                break;
        }
        if (parked(Command.ROLLBACK)) {
            return Answer.NONE;
        }
        if (state == State.ACTIVE || state == State.WILLING) {
            rollbackActive();
            return Answer.DONE;
        }
        if (xa == null) {
            return Answer.NONE; // prepared, connection lost: retried by xid
        }
        try {
            xa.rollback(xid);
            state = State.ROLLED_BACK;
            finish(true);
            return Answer.DONE;
        } catch (XAException e) {
            XaErrorClassifier.Verdict v = XaErrorClassifier.classify(e, XaOperation.ROLLBACK);
            if (v == XaErrorClassifier.Verdict.ALREADY_DONE) {
                state = State.ROLLED_BACK;
                finish(true);
                return Answer.DONE;
            }
            if (v == XaErrorClassifier.Verdict.HEURISTIC) {
                return endHeuristically(XaErrorClassifier.heuristicAnswer(e, XaOperation.ROLLBACK), XaOperation.ROLLBACK, e,
                        State.ROLLED_BACK);
            }
            log.warn("XA ROLLBACK of branch {} on {} failed ({}), will retry: {}", xid, resource, v, XaErrorClassifier.describe(e));
            finish(false);
            return Answer.NONE;
        }
    }

    private Answer commitOnePhase() {
        switch (state) {
            case COMMITTED, READ_ONLY:
                return Answer.DONE;
            case ROLLED_BACK:
                return Answer.ROLLED_BACK_INSTEAD;
            case UNKNOWN, PREPARED, WILLING, IN_DOUBT:
                return Answer.NONE;
            default:
                break;
        }
        if (parked(Command.COMMIT_ONE_PHASE)) {
            return Answer.NONE;
        }
        if (doomReason != null) {
            log.info("Branch {} on {} rolled back instead of a one-phase commit: {}", xid, resource, doomReason);
            rollbackActive();
            return Answer.ROLLED_BACK_INSTEAD;
        }
        try {
            xa.end(xid, XAResource.TMSUCCESS);
        } catch (XAException e) {
            log.warn("XA END of branch {} on {} failed before a one-phase commit: {}", xid, resource, XaErrorClassifier.describe(e));
            rollbackActive();
            return Answer.ROLLED_BACK_INSTEAD;
        }
        try {
            xa.commit(xid, true);
            state = State.COMMITTED;
            finish(true);
            return Answer.DONE;
        } catch (XAException e) {
            Answer heuristicEnd = XaErrorClassifier.heuristicAnswer(e, XaOperation.COMMIT_ONE_PHASE);
            if (heuristicEnd != null) {
                return endHeuristically(heuristicEnd, XaOperation.COMMIT_ONE_PHASE, e,
                        heuristicEnd == Answer.HEURISTIC_ROLLBACK ? State.ROLLED_BACK : State.COMMITTED);
            }
            int code = XaErrorClassifier.effectiveCode(e);
            boolean rolledBack = (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) || code == XAException.XAER_NOTA;
            if (rolledBack) {
                state = State.ROLLED_BACK;
                finish(false);
                return Answer.ROLLED_BACK_INSTEAD;
            }
            if (XaErrorClassifier.classify(e, XaOperation.COMMIT) == XaErrorClassifier.Verdict.RETRY) {
                // the commit may or may not have happened: never guess
                state = State.UNKNOWN;
                log.error("One-phase commit of branch {} on {} lost its connection: outcome unknown ({}); "
                        + "not acknowledged, the coordinator reports it as a heuristic hazard", xid, resource, XaErrorClassifier.describe(e));
                finish(false);
                return Answer.NONE;
            }
            log.warn("One-phase commit of branch {} on {} failed, rolling back: {}", xid, resource, XaErrorClassifier.describe(e));
            try {
                xa.rollback(xid);
            } catch (XAException ignored) {
                // nothing more we can do; the session's end rolls it back
            }
            state = State.ROLLED_BACK;
            finish(false);
            return Answer.ROLLED_BACK_INSTEAD;
        }
    }

    /**
     * Phase 2 ended in the database's own decision ({@code answer}, a heuristic): nothing more can be done
     * here, and it is reported as such. One that matches what {@code op} asked for is forgotten in the
     * database at once (it has nothing to reconcile); any other is left there for an operator, and a
     * resent command hears it again.
     */
    private Answer endHeuristically(Answer answer, XaOperation op, XAException e, State end) {
        heuristic = true;
        if (XaErrorClassifier.matchesDecision(answer, op)) {
            log.warn("{} of branch {} on {}: the database had already decided it the same way on its own ({}); reported as {}"
                    + " and forgotten in the database", op, xid, resource, XaErrorClassifier.describe(e), answer);
            try {
                xa.forget(xid);
            } catch (XAException f) {
                log.warn("XA FORGET of branch {} on {} failed: {}", xid, resource, XaErrorClassifier.describe(f));
            }
        } else {
            log.error("HEURISTIC outcome: {} of branch {} on {} answered {}. Reported to the coordinator as {}; the transaction"
                    + " needs an operator.", op, xid, resource, XaErrorClassifier.describe(e), answer);
        }
        state = end;
        finish(false);
        return answer;
    }

    /** Ends (unless CAN_COMMIT did) and rolls back a branch that never prepared; whatever fails, the session's end rolls it back. */
    private void rollbackActive() {
        boolean clean = true;
        if (state != State.WILLING) {
            try {
                xa.end(xid, XAResource.TMFAIL);
            } catch (XAException e) {
                // already ended (TMSUCCESS before a failed prepare) or the connection is gone
                clean = false;
            }
        }
        try {
            xa.rollback(xid);
        } catch (XAException e) {
            clean = clean && XaErrorClassifier.classify(e, XaOperation.ROLLBACK) == XaErrorClassifier.Verdict.ALREADY_DONE;
        }
        state = State.ROLLED_BACK;
        finish(clean);
    }

    /**
     * Lets go of the connection: back to the pool when the branch ended cleanly, evicted otherwise
     * (a broken or doubtful session must not serve the next borrower; for a prepared branch the
     * database keeps it, and the agent finishes it by xid on a fresh connection).
     */
    private void finish(boolean clean) {
        Connection c = connection;
        connection = null;
        xa = null;
        if (c == null) {
            return;
        }
        if (clean) {
            try {
                if (c.getAutoCommit() != autoCommitBefore) {
                    c.setAutoCommit(autoCommitBefore);
                }
                resource.giveBack(c);
                return;
            } catch (SQLException e) {
                log.debug("Connection of branch {} not reusable: {}", xid, e.toString());
            }
        }
        resource.discard(c);
    }

    /**
     * Prepared, but its connection broke: phase 2 must run by xid on a fresh connection (the database
     * kept the prepared branch: it outlives its session on PostgreSQL and MariaDB).
     */
    public synchronized boolean detached() {
        return state == State.PREPARED && xa == null;
    }

    /** Whether PREPARE's answer was lost: see {@link State#IN_DOUBT}. */
    public synchronized boolean inDoubt() {
        return state == State.IN_DOUBT;
    }

    /** Phase 2 of a {@link #detached()} or {@link #inDoubt()} branch was done by xid elsewhere. */
    public synchronized void finishedByXid(boolean committed) {
        if (state == State.PREPARED) {
            state = committed ? State.COMMITTED : State.ROLLED_BACK;
        } else if (state == State.IN_DOUBT && !committed) {
            state = State.ROLLED_BACK;
        }
    }

    // ---- 3PC participant timers: armed and fired by the agent, always under this branch's lock ----

    /** Arms a new participant timer (replacing any armed one) and returns its token. */
    public synchronized long armTimer() {
        armedTimer = TIMERS.incrementAndGet();
        return armedTimer;
    }

    /** No armed timer may fire any more: the command it waited for arrived. */
    public synchronized void disarmTimer() {
        armedTimer = 0;
    }

    /** Whether the timer {@code token} is still the armed one; if so it is consumed. */
    public synchronized boolean timerDue(long token) {
        if (token == 0 || token != armedTimer) {
            return false;
        }
        armedTimer = 0;
        return true;
    }

    public synchronized long participantTimeoutMillis() {
        return participantTimeoutMillis;
    }

    /** The participant's own decision took effect ({@code COMMIT} or {@code ROLLBACK}): every later command is answered with it. */
    public synchronized void decidedOnItsOwn(Command decision) {
        if (decision != Command.COMMIT && decision != Command.ROLLBACK) {
            throw new IllegalArgumentException("a participant decides COMMIT or ROLLBACK, not " + decision);
        }
        decidedOnItsOwn = decision;
    }

    /** What the participant decided on its own, or null. */
    public synchronized Command decidedOnItsOwn() {
        return decidedOnItsOwn;
    }

    void registered() {
        registered = true;
    }

    /** Whether the coordinator was told of the branch before its commit (see {@link #registered}). */
    public boolean isRegistered() {
        return registered;
    }

    public synchronized void committingInCaller(boolean on) {
        committingInCaller = on;
    }

    /** Whether the agent may ask the coordinator about this prepared branch (not while its caller commits it). */
    public synchronized boolean mayInquire() {
        return state == State.PREPARED && !committingInCaller;
    }

    /** Whether the branch still needs phase 2 from the coordinator (for the Inquiry on reconnect). */
    public synchronized boolean isPrepared() {
        return state == State.PREPARED;
    }

    public synchronized boolean isFinished() {
        return state == State.COMMITTED || state == State.ROLLED_BACK || state == State.READ_ONLY;
    }

    @Override
    public String toString() {
        return xid + "@" + resource.resourceId();
    }
}
