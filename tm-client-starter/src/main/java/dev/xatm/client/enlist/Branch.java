package dev.xatm.client.enlist;

import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.util.Optional;

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
 * <p>Threading: business threads use the connection while it is held ({@link BranchUse}: the scopes that
 * touched the branch have not ended). Phase commands ({@link #execute}) come from the agent's
 * threads; one that would end the branch while it is in use is parked there and run
 * when the last holder lets go, so XA END never races a running statement. All state is guarded by
 * {@code this}, which also serialises commands per branch (design notes, agent contract).
 *
 * <p>The XA calls, their error paths and the connection's return to the pool are {@link BranchXa}'s:
 * the branch decides what to run in which state, and applies the state each call ends in.
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

    private final TmXid xid;
    private final EnlistedResource resource;
    /** Whether a branch that wrote nothing may finish at PREPARE and vote READ_ONLY (tm.client.read-only-votes). */
    private final boolean readOnlyVote;
    private final BranchXa xa;
    private State state = State.ACTIVE;
    /** Holders, dirty tracking, doom, the parked command: what the business code did with the branch. */
    private final BranchUse use;
    private boolean heuristic;
    /** 3PC: how long to wait after a YES before deciding alone, from the last CAN_COMMIT / PRE_COMMIT. */
    private long participantTimeoutMillis;
    /** 3PC: the participant timer armed by the last YES; 0 = none. A timer fires only while it is the armed one. */
    private long armedTimer;
    private static final java.util.concurrent.atomic.AtomicLong TIMERS = new java.util.concurrent.atomic.AtomicLong();
    /** 3PC: what the participant decided on its own (COMMIT or ROLLBACK), or null. Never cleared. */
    private BranchCommand decidedOnItsOwn;
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
        this.xa = new BranchXa(xid, resource, connection, xa, autoCommitBefore);
        this.use = new BranchUse(xid, resource);
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
        return xa.connection();
    }

    synchronized void hold() {
        use.hold();
    }

    /** Something that may write ran (or is about to run) on the branch: it must take part in phase 2. */
    void markDirty() {
        use.markDirty();
    }

    /** Whether anything that may write ran on the branch. */
    public boolean isDirty() {
        return use.dirty();
    }

    /** A scope that used the branch ended; see {@link BranchUse#release}. */
    synchronized BranchCommand release(boolean failed, String why) {
        return use.release(failed, why);
    }

    /** Marks the branch so that phase 1 votes NO. */
    synchronized void doom(String reason) {
        use.doom(reason);
    }

    /** Refuses new statements on a branch the coordinator already rolled back or that ended. */
    synchronized void checkUsable() {
        use.checkUsable(state);
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
        use.abandoned(why);
        rollback();
        return true;
    }

    /** Runs one phase command; idempotent (a resend gets the same answer). */
    public synchronized BranchAnswer execute(BranchCommand command) {
        return execute(command, 0);
    }

    /**
     * Runs one phase command; {@code participantTimeoutMillis} (&gt; 0 for CAN_COMMIT and PRE_COMMIT)
     * is kept for the timer the agent arms after a YES, also when the command is parked. After the
     * participant decided on its own, every command gets that report.
     */
    public synchronized BranchAnswer execute(BranchCommand command, long participantTimeoutMillis) {
        if (participantTimeoutMillis > 0) {
            this.participantTimeoutMillis = participantTimeoutMillis;
        }
        if (decidedOnItsOwn != null) {
            return decidedOnItsOwn == BranchCommand.COMMIT ? BranchAnswer.DECIDED_COMMIT : BranchAnswer.DECIDED_ROLLBACK;
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
    private BranchAnswer canCommit() {
        // WILLING: a resend, or a late one; it is (or was) as healthy as it gets
        Optional<BranchAnswer> again = voteAgain(true);
        if (again.isPresent()) {
            return again.get();
        }
        if (parked(BranchCommand.CAN_COMMIT)) {
            return BranchAnswer.NONE;
        }
        if (rolledBackAsDoomed("answers NO to CAN_COMMIT")) {
            return BranchAnswer.VOTE_NO;
        }
        if (readOnlyVote && !use.dirty() && xa.confirmsNothingWritten()) {
            return finishReadOnly();
        }
        if (!xa.answers()) {
            log.info("Branch {} on {} answers NO to CAN_COMMIT: its connection no longer answers", xid, resource);
            rollbackActive();
            return BranchAnswer.VOTE_NO;
        }
        if (!xa.end("branch", ", answering NO to CAN_COMMIT")) {
            rollbackActive();
            return BranchAnswer.VOTE_NO;
        }
        state = State.WILLING;
        return BranchAnswer.VOTE_YES;
    }

    /**
     * 3PC's second step: XA PREPARE (after XA END, which CAN_COMMIT normally did). Unlike PREPARE it
     * never finishes a branch as read-only: a YES here means "prepared", and the coordinator counts on
     * it. A branch that finished read-only at CAN_COMMIT answers YES: it has nothing left to lose.
     */
    private BranchAnswer preCommit() {
        return switch (state) {
            case READ_ONLY -> BranchAnswer.VOTE_YES;
            case WILLING -> prepareEnded();
            default -> prepare(false, BranchCommand.PRE_COMMIT);
        };
    }

    /**
     * The vote a branch past its first phase gives again to a first-phase question (a resend, or a late
     * one); empty while it may still vote. {@code willingSaidYes}: WILLING counts as a YES given.
     */
    private Optional<BranchAnswer> voteAgain(boolean willingSaidYes) {
        return Optional.ofNullable(switch (state) {
            case PREPARED, COMMITTED -> BranchAnswer.VOTE_YES;
            case WILLING -> willingSaidYes ? BranchAnswer.VOTE_YES : null;
            case READ_ONLY -> BranchAnswer.VOTE_READ_ONLY;
            case ROLLED_BACK, UNKNOWN, IN_DOUBT -> BranchAnswer.VOTE_NO;
            case ACTIVE -> null;
        });
    }

    /** A doomed branch is rolled back at once ({@code what} it answers, for the log); false when it is not doomed. */
    private boolean rolledBackAsDoomed(String what) {
        if (use.doomReason() == null) {
            return false;
        }
        log.info("Branch {} on {} {}: {}", xid, resource, what, use.doomReason());
        rollbackActive();
        return true;
    }

    private boolean parked(BranchCommand c) {
        if (state == State.ACTIVE && use.held()) {
            use.park(c);
            return true;
        }
        return false;
    }

    private BranchAnswer prepare() {
        return prepare(readOnlyVote, BranchCommand.PREPARE);
    }

    /** PREPARE, or PRE_COMMIT of a branch that skipped CAN_COMMIT ({@code parkAs} is the command to resume). */
    private BranchAnswer prepare(boolean mayFinishReadOnly, BranchCommand parkAs) {
        Optional<BranchAnswer> again = voteAgain(false);
        if (again.isPresent()) {
            return again.get();
        }
        if (parked(parkAs)) {
            return BranchAnswer.NONE;
        }
        if (rolledBackAsDoomed("votes NO")) {
            return BranchAnswer.VOTE_NO;
        }
        if (mayFinishReadOnly && !use.dirty() && xa.confirmsNothingWritten()) {
            return finishReadOnly();
        }
        if (state == State.WILLING) {
            return prepareEnded(); // a 2PC PREPARE after CAN_COMMIT: not sent by the rules, harmless
        }
        if (!xa.end("branch", ", voting NO")) {
            rollbackActive();
            return BranchAnswer.VOTE_NO;
        }
        return prepareEnded();
    }

    /** XA PREPARE of a branch already XA-ended. */
    private BranchAnswer prepareEnded() {
        return apply(xa.prepare());
    }

    /**
     * The branch wrote nothing (no driver here returns XA_RDONLY, so we decide): end it and
     * commit it in one phase now, which releases its connection and any locks its reads took, and
     * vote READ_ONLY so the coordinator leaves it out of phase 2. Commit rather than roll back: were
     * the dirty tracking ever wrong, the common outcome (global commit) would still keep the write.
     */
    private BranchAnswer finishReadOnly() {
        if (!xa.end("read-only branch", ", voting NO")) {
            rollbackActive();
            return BranchAnswer.VOTE_NO;
        }
        return apply(xa.commitReadOnly());
    }

    private BranchAnswer commit() {
        switch (state) {
            case COMMITTED, READ_ONLY:
                return BranchAnswer.DONE; // READ_ONLY: nothing to commit (the coordinator sends none; a stray one is harmless)
            case ACTIVE, WILLING, ROLLED_BACK, UNKNOWN, IN_DOUBT:
                // the coordinator sends COMMIT only to branches that voted YES: this is a bug somewhere
                log.error("COMMIT for branch {} on {} which is {}, not prepared; not acknowledged (heuristic hazard)", xid, resource, state);
                return BranchAnswer.NONE;
            default:
                break;
        }
        if (!xa.attached()) {
            return BranchAnswer.NONE; // the connection broke earlier; the agent retries by xid on a fresh one
        }
        return apply(xa.commit());
    }

    private BranchAnswer rollback() {
        switch (state) {
            case ROLLED_BACK, READ_ONLY:
                // READ_ONLY: it wrote nothing, so there is nothing to undo; the coordinator sends a
                // rollback to it only when the abort overtook the vote
                return BranchAnswer.DONE;
            case COMMITTED:
                log.error("ROLLBACK for branch {} on {} which already COMMITTED; not acknowledged (heuristic hazard)", xid, resource);
                return BranchAnswer.NONE;
            case UNKNOWN, IN_DOUBT:
                return BranchAnswer.NONE; // IN_DOUBT: rolled back by xid by the agent, not on this (lost) connection
            default:
                break;
        }
        if (parked(BranchCommand.ROLLBACK)) {
            return BranchAnswer.NONE;
        }
        if (state == State.ACTIVE || state == State.WILLING) {
            rollbackActive();
            return BranchAnswer.DONE;
        }
        if (!xa.attached()) {
            return BranchAnswer.NONE; // prepared, connection lost: retried by xid
        }
        return apply(xa.rollback());
    }

    private BranchAnswer commitOnePhase() {
        switch (state) {
            case COMMITTED, READ_ONLY:
                return BranchAnswer.DONE;
            case ROLLED_BACK:
                return BranchAnswer.ROLLED_BACK_INSTEAD;
            case UNKNOWN, PREPARED, WILLING, IN_DOUBT:
                return BranchAnswer.NONE;
            default:
                break;
        }
        if (parked(BranchCommand.COMMIT_ONE_PHASE)) {
            return BranchAnswer.NONE;
        }
        if (rolledBackAsDoomed("rolled back instead of a one-phase commit")) {
            return BranchAnswer.ROLLED_BACK_INSTEAD;
        }
        if (!xa.end("branch", " before a one-phase commit")) {
            rollbackActive();
            return BranchAnswer.ROLLED_BACK_INSTEAD;
        }
        return apply(xa.commitOnePhase());
    }

    /** Takes the state an XA call ended the branch in; a heuristic answer marks the branch for good. */
    private BranchAnswer apply(BranchXa.Ended ended) {
        if (ended.state() != null) {
            state = ended.state();
        }
        if (ended.answer().isHeuristic()) {
            heuristic = true;
        }
        return ended.answer();
    }

    /** Ends (unless CAN_COMMIT did) and rolls back a branch that never prepared; whatever fails, the session's end rolls it back. */
    private void rollbackActive() {
        xa.rollbackUnprepared(state == State.WILLING);
        state = State.ROLLED_BACK;
    }

    /**
     * Prepared, but its connection broke: phase 2 must run by xid on a fresh connection (the database
     * kept the prepared branch: it outlives its session on PostgreSQL and MariaDB).
     */
    public synchronized boolean detached() {
        return state == State.PREPARED && !xa.attached();
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
    public synchronized void decidedOnItsOwn(BranchCommand decision) {
        if (decision != BranchCommand.COMMIT && decision != BranchCommand.ROLLBACK) {
            throw new IllegalArgumentException("a participant decides COMMIT or ROLLBACK, not " + decision);
        }
        decidedOnItsOwn = decision;
    }

    /** What the participant decided on its own, or null. */
    public synchronized BranchCommand decidedOnItsOwn() {
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

    /** The participant core's XA call on this branch's connection; see {@link BranchXa#run}. */
    public synchronized dev.xatm.core.participant.XaResult run(dev.xatm.core.participant.XaOp op) {
        return xa.run(op);
    }

    /** The participant core ended the branch: its connection back to the pool if {@code clean}, else evicted. */
    public synchronized void finish(boolean clean) {
        xa.finish(clean);
    }

    @Override
    public String toString() {
        return xid + "@" + resource.resourceId();
    }
}
