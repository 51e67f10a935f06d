package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.TxnViews;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The 2PC coordinator (presumed abort) as a pure state machine over all live global transactions.
 *
 * <p>Events in, {@link Effects} out: {@link #step(Event)} has no clock, no I/O, no threads and no
 * randomness, so the same events always give the same effects (like etcd raft's
 * RawNode). Time enters only through {@link Event.Tick} and {@link Event.Begin#deadlineMillis()},
 * both on the driver's monotonic clock; the driver should feed a Tick before the first request.
 *
 * <p>Thread-unsafe: the driver calls it from one thread. The driver's obligations are on
 * {@link Effects}: log appends first (fsync when {@link Effects#mustSync()}), and a
 * {@link Event.DecisionDurable} only once the decision record is on stable storage. The core in
 * turn never emits a COMMIT for a transaction before that event.
 *
 * <p>This class looks transactions up, validates client requests and tracks which agents are gone;
 * the protocol rules for one transaction are in {@link TwoPhase}, where transactions are kept in
 * {@link TxnTable}, an operator's forced resolutions in {@link OperatorCommands}, and the read-only
 * admin views in {@link AdminViews} ({@link #views()}).
 */
public final class Coordinator {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    /**
     * Agents whose stream ended and has not come back. An agent never seen is presumed present:
     * after a restart no agent has connected yet, and each will, or its commands wait for it.
     */
    private final Set<String> goneAgents = new LinkedHashSet<>();
    /**
     * Agents with an open stream now. A branch may only join on one of them: a branch on an agent
     * that never connects (a typo, a misconfigured id) could never be told to roll back, and its
     * transaction would stay live, resending, forever.
     */
    private final Set<String> connectedAgents = new LinkedHashSet<>();
    private final TwoPhase twoPhase;
    private final ThreePhase threePhase;
    private final OperatorCommands operator;
    private final AdminViews views;
    private final Speakers speakers = new Speakers(connectedAgents);
    private long nowMillis;
    private boolean clockStarted;

    public Coordinator(CoordinatorConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.txns = new TxnTable(config.finishedMemory());
        this.twoPhase = new TwoPhase(config, goneAgents);
        this.threePhase = new ThreePhase(config, twoPhase);
        this.operator = new OperatorCommands(config, txns, twoPhase, goneAgents);
        this.views = new AdminViews(txns, goneAgents, connectedAgents, () -> nowMillis);
    }

    /**
     * Rebuilds the state a crashed coordinator left durable (rule 12). Every decision without a
     * later completion resumes phase 2: all its branches are pending COMMIT, due at once, and go
     * out on the first Tick or AgentConnected. Completed ones are remembered as finished. Undecided
     * transactions left no record and are simply absent, which is what presumed abort means.
     * Duplicated records are tolerated.
     */
    public static Coordinator restore(CoordinatorConfig config, Iterable<LogRecord> durableRecords, long nowMillis) {
        Coordinator c = new Coordinator(config);
        c.nowMillis = nowMillis;
        c.clockStarted = true;
        LogReplay replay = LogReplay.of(durableRecords);
        Set<String> open = replay.open;
        Map<String, LogRecord.Decision> decisions = replay.decisions;
        Map<String, LogRecord.PreCommit> preCommits = replay.preCommits;
        for (String gtrid : replay.completed) {
            if (open.contains(gtrid)) {
                continue;
            }
            LogRecord.Decision d = decisions.get(gtrid);
            LogRecord.PreCommit p = preCommits.get(gtrid);
            if (d == null && p != null) {
                // 3PC, rolled back after its PRE_COMMIT record: nothing left to do, nothing to remember.
                continue;
            }
            c.txns.addRemembered((d == null
                    ? GlobalTxn.restoredFinished(gtrid, "", List.of())
                    : GlobalTxn.restoredFinished(gtrid, d.name(), d.branches()))
                    .restoredAt(nowMillis, "COMMITTED and completed before the restart (from the log)"));
        }
        for (String gtrid : open) {
            c.restoreOpen(replay, gtrid, "");
        }
        return c;
    }

    /**
     * One open transaction of the log, rebuilt as after a restart: phase 2 resumes (COMMIT, or the
     * 3PC re-ask or rollback), or a heuristic rollback is held. {@code origin} prefixes its history
     * note ("" after a restart, "adopted from ...: " after a takeover).
     */
    private void restoreOpen(LogReplay replay, String gtrid, String origin) {
        LogRecord.Heuristics h = replay.heuristics.get(gtrid);
        if (h != null) {
            // A rollback a database partly overrode: held for an operator, whatever else the log has.
            txns.addLive(GlobalTxn.restoredHeuristic(h).restoredAt(nowMillis, origin + "rolled back (" + h.decided()
                    + ") with heuristic branches reported before the restart: held until an operator forgets it"));
            txns.retireIfFinished(txns.live(gtrid));
            return;
        }
        restoreOpen(gtrid, replay.decisions.get(gtrid), replay.preCommits.get(gtrid), replay.aborted.contains(gtrid), origin);
    }

    private void restoreOpen(String gtrid, LogRecord.Decision d, LogRecord.PreCommit p, boolean aborted, String origin) {
        if (d == null && aborted) {
            // 3PC, aborted after its PRE_COMMIT record: the rollback resumes. (If the Aborted record had
            // been lost, asking the branches again would find one that is not prepared and abort again.)
            GlobalTxn t = GlobalTxn.restoredRollingBack(gtrid, p.name(), p.branches());
            for (BranchProgress b : t.branches()) {
                b.rollback(config, nowMillis);
            }
            txns.addLive(t.restoredAt(nowMillis, origin + "PRE_COMMIT record and a rollback decision: ROLLBACK resumes to "
                    + t.branchCount() + " branch(es)"));
            return;
        }
        if (d == null) {
            // 3PC, undecided after PRE_COMMIT: never presume abort here, a participant may have committed
            // on its own. Ask every branch again; their answers decide (ThreePhase).
            GlobalTxn t = GlobalTxn.restoredPreCommit(gtrid, p.name(), p.branches());
            for (BranchProgress b : t.branches()) {
                b.preCommit(config, nowMillis);
            }
            txns.addLive(t.restoredAt(nowMillis, origin + "PRE_COMMIT record without a decision: PRE_COMMIT resent to "
                    + t.branchCount() + " branch(es); their answers decide"));
            return;
        }
        GlobalTxn t = GlobalTxn.restoredCommitting(gtrid, d.name(), p == null ? Protocol.TWO_PHASE : Protocol.THREE_PHASE,
                d.branches());
        if (t.branchCount() == 0) {
            // We never log a decision without a YES branch; if one appears, nothing is left to do.
            txns.addRemembered(GlobalTxn.restoredFinished(gtrid, d.name(), List.of())
                    .restoredAt(nowMillis, origin + "COMMITTED; its decision record names no branch"));
            return;
        }
        for (BranchProgress b : t.branches()) {
            b.commit(config, nowMillis);
        }
        t.restoredAt(nowMillis, origin + "durable COMMIT decision without completion: phase 2 resumes, COMMIT to "
                + t.branchCount() + " branch(es)");
        txns.addLive(t);
    }

    /** Applies one event and returns what the driver must do about it. */
    public Effects step(Event event) {
        Objects.requireNonNull(event, "event");
        Effects.Builder out = new Effects.Builder();
        if (event instanceof Event.Tick e) {
            onTick(e, out);
        } else if (event instanceof Event.Begin e) {
            onBegin(e, out);
        } else if (event instanceof Event.RegisterBranch e) {
            onRegisterBranch(e, out);
        } else if (event instanceof Event.CommitRequested e) {
            onCommitRequested(e, out);
        } else if (event instanceof Event.CommitPrepared e) {
            onCommitPrepared(e, out);
        } else if (event instanceof Event.CanCommitHeld e) {
            onCanCommitHeld(e, out);
        } else if (event instanceof Event.PreCommitHeld e) {
            onPreCommitHeld(e, out);
        } else if (event instanceof Event.RollbackRequested e) {
            onRollbackRequested(e, out);
        } else if (event instanceof Event.VoteReceived e) {
            onVote(e, out);
        } else if (event instanceof Event.AckReceived e) {
            onAck(e, out);
        } else if (event instanceof Event.DecisionDurable e) {
            onDecisionDurable(e, out);
        } else if (event instanceof Event.AgentConnected e) {
            onAgentConnected(e, out);
        } else if (event instanceof Event.AgentDisconnected e) {
            onAgentDisconnected(e, out);
        } else if (event instanceof Event.Inquiry e) {
            onInquiry(e, out);
        } else if (event instanceof Event.Adopted e) {
            onAdopted(e);
        } else if (event instanceof Event.ForceCommit e) {
            operator.forceCommit(e, nowMillis, out);
        } else if (event instanceof Event.ForceRollback e) {
            operator.forceRollback(e, nowMillis, out);
        } else if (event instanceof Event.Forget e) {
            operator.forget(e, nowMillis, out);
        } else {
            throw new IllegalArgumentException("unknown event " + event);
        }
        return out.build();
    }

    /** What the coordinator knows of a gtrid now; UNKNOWN means presumed aborted. */
    public TxnStatus status(String gtrid) {
        GlobalTxn t = txns.find(gtrid);
        return t == null ? TxnStatus.UNKNOWN : t.state().status;
    }

    /** The protocol of a transaction held now (live or remembered as finished), or null. */
    public Protocol protocol(String gtrid) {
        GlobalTxn t = txns.find(gtrid);
        return t == null ? null : t.protocol();
    }

    /** Unfinished transactions held now, bounded by {@link CoordinatorConfig#maxLiveTxns()} for new begins. */
    public int liveCount() {
        return txns.liveCount();
    }

    /** Finished transactions held until an operator forgets them (heuristic outcomes, one-phase hazards). */
    public int heldCount() {
        return txns.heldCount();
    }

    /**
     * Read-only queries for the admin API. Same threading rule as {@link #step}: call them on the
     * coordinator's thread; what they return are copies, safe to hand to other threads.
     */
    public TxnViews views() {
        return views;
    }

    // ---- client requests (rules 1, 2, 3, 10) ----

    private void onBegin(Event.Begin e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.INVALID_ARGUMENT,
                    "gtrid must be 1.." + Ids.MAX_ID_BYTES + " characters of [A-Za-z0-9._:-], got " + Ids.quote(gtrid));
            return;
        }
        String name = e.name() == null ? "" : e.name();
        if (name.length() > Ids.MAX_NAME_CHARS) {
            // The name goes into the decision record: bounded so it cannot bloat the log.
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.INVALID_ARGUMENT,
                    "name must be at most " + Ids.MAX_NAME_CHARS + " characters, got " + name.length());
            return;
        }
        if (txns.find(gtrid) != null) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.ALREADY_EXISTS, "transaction " + gtrid + " exists already");
            return;
        }
        // Held ones count too: they are never dropped, so they must be bounded by refusing new work.
        if (txns.liveCount() + txns.heldCount() >= config.maxLiveTxns()) {
            reject(out, gtrid, RequestKind.BEGIN, ErrorCode.RESOURCE_EXHAUSTED,
                    "the coordinator holds " + txns.liveCount() + " unfinished transactions and " + txns.heldCount()
                            + " waiting for an operator, the configured maximum");
            return;
        }
        Protocol protocol = e.protocol() == null ? config.defaultProtocol() : e.protocol();
        txns.addLive(GlobalTxn.begun(gtrid, name, protocol, e.deadlineMillis(), nowMillis));
        out.reply(new Reply.Begun(gtrid, e.deadlineMillis()));
    }

    private void onRegisterBranch(Event.RegisterBranch e, Effects.Builder out) {
        String gtrid = e.gtrid();
        Branch branch = e.branch();
        if (!Ids.isValidId(gtrid) || branch == null) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.INVALID_ARGUMENT,
                    "a valid gtrid and a branch are required, got gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            if (txns.finished(gtrid) != null) {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                        "transaction " + gtrid + " is finished (" + txns.finished(gtrid).outcome() + ")");
            } else {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.NOT_FOUND, "transaction " + gtrid + " is not known");
            }
            return;
        }
        if (t.state() != GlobalTxn.State.ACTIVE) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                    "transaction " + gtrid + " is " + t.state().status + "; branches can only join an ACTIVE one");
            return;
        }
        BranchProgress existing = t.branch(branch.bqual());
        if (existing != null) {
            if (existing.branch().sameAs(branch)) {
                out.reply(new Reply.Registered(gtrid, branch.bqual())); // a retried registration
            } else {
                reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.ALREADY_EXISTS,
                        "branch " + branch.bqual() + " of " + gtrid + " is registered with other attributes: " + existing.branch());
            }
            return;
        }
        if (!connectedAgents.contains(branch.agentId())) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.FAILED_PRECONDITION,
                    "agent " + Ids.quote(branch.agentId()) + " has no open stream to this coordinator; a branch can only"
                            + " join on an agent that is connected, so that it can be told to commit or roll back");
            return;
        }
        if (t.branchCount() >= config.maxBranchesPerTxn()) {
            reject(out, gtrid, RequestKind.REGISTER_BRANCH, ErrorCode.RESOURCE_EXHAUSTED,
                    "transaction " + gtrid + " has " + t.branchCount() + " branches, the configured maximum");
            return;
        }
        t.addBranch(branch);
        t.note(nowMillis, Kind.BRANCH_REGISTERED, branch.bqual(), "on " + branch.resourceId() + " held by agent " + branch.agentId());
        out.reply(new Reply.Registered(gtrid, branch.bqual()));
    }

    private void onCommitRequested(Event.CommitRequested e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, "malformed gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out);
            return;
        }
        switch (t.state()) {
            case ACTIVE -> {
                // One branch commits in one phase whatever the protocol: it decides alone.
                if (t.protocol() == Protocol.THREE_PHASE && t.branchCount() >= 2) {
                    threePhase.commit(t, nowMillis, out);
                } else {
                    twoPhase.commit(t, nowMillis, out);
                }
                txns.retireIfFinished(t);
            }
            // The outcome is decided (and, for COMMITTING, durable): say it again, for a client that retried.
            case COMMITTING -> out.reply(new Reply.Decided(gtrid, t.outcome()));
            // 3PC: not before the Aborted record is durable; the Decided reply comes then.
            case ROLLING_BACK -> {
                if (!t.abortAwaitingDisk()) {
                    out.reply(new Reply.Decided(gtrid, t.outcome()));
                }
            }
            // PREPARING, one phase, decision not durable yet: the Decided reply comes when decided.
            default -> { }
        }
    }

    /**
     * the one round trip (see {@link Event.CommitPrepared}). Everything is checked before
     * anything changes, so a refused request leaves no trace; a repeated one (the client retried)
     * gets the outcome again.
     */
    private void onCommitPrepared(Event.CommitPrepared e, Effects.Builder out) {
        String gtrid = e.gtrid();
        String problem = commitPreparedProblem(e);
        if (problem != null) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, problem);
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null && txns.finished(gtrid) != null) {
            answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out); // a retry, or presumed aborted by an inquiry
            return;
        }
        if (t != null && t.state() != GlobalTxn.State.ACTIVE) {
            onCommitRequested(new Event.CommitRequested(gtrid), out); // a retry: say the outcome, or wait for it
            return;
        }
        if (t != null && t.protocol() != Protocol.TWO_PHASE) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.FAILED_PRECONDITION, "transaction " + gtrid + " uses "
                    + t.protocol().label + ": a commit with votes is two-phase only");
            return;
        }
        int existing = t == null ? 0 : t.branchCount();
        for (Event.Voted v : e.branches()) {
            BranchProgress b = t == null ? null : t.branch(v.branch().bqual());
            if (b != null && !b.branch().sameAs(v.branch())) {
                reject(out, gtrid, RequestKind.COMMIT, ErrorCode.ALREADY_EXISTS, "branch " + v.branch().bqual() + " of " + gtrid
                        + " is registered with other attributes: " + b.branch());
                return;
            }
            if (b == null) {
                existing++;
            }
        }
        if (existing > config.maxBranchesPerTxn()) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.RESOURCE_EXHAUSTED, "transaction " + gtrid + " would have "
                    + existing + " branches, more than the configured maximum of " + config.maxBranchesPerTxn());
            return;
        }
        if (t == null) {
            if (txns.liveCount() + txns.heldCount() >= config.maxLiveTxns()) {
                reject(out, gtrid, RequestKind.COMMIT, ErrorCode.RESOURCE_EXHAUSTED, "the coordinator holds " + txns.liveCount()
                        + " unfinished transactions and " + txns.heldCount() + " waiting for an operator, the configured maximum");
                return;
            }
            t = GlobalTxn.begun(gtrid, e.name() == null ? "" : e.name(), Protocol.TWO_PHASE, e.deadlineMillis(), nowMillis);
            txns.addLive(t);
        }
        for (Event.Voted v : e.branches()) {
            if (t.branch(v.branch().bqual()) == null) {
                t.addBranch(v.branch());
            }
        }
        twoPhase.commitPrepared(t, e.branches(), nowMillis, out);
        txns.retireIfFinished(t);
    }

    /**
     * The cheap 3PC start (see {@link Event.CanCommitHeld}). Only for a gtrid the coordinator does not
     * know: a begun one takes the coordinator-driven path. As for a commit with votes, everything is
     * checked before anything changes, and a repeated request gets the outcome (or waits for it).
     */
    private void onCanCommitHeld(Event.CanCommitHeld e, Effects.Builder out) {
        String gtrid = e.gtrid();
        String problem = commitPreparedProblem(new Event.CommitPrepared(gtrid, e.name(), e.deadlineMillis(), e.agentId(), e.branches()));
        if (problem != null) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, problem);
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null && txns.finished(gtrid) != null) {
            answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out); // a retry, or presumed aborted by an inquiry
            return;
        }
        if (t != null && t.state() == GlobalTxn.State.PRE_COMMIT && !t.restored()) {
            out.reply(new Reply.PreCommitted(gtrid, config.threePhase().participantPreCommitMillis())); // a retry
            return;
        }
        if (t != null && t.state() != GlobalTxn.State.ACTIVE && t.protocol() == Protocol.THREE_PHASE) {
            onCommitRequested(new Event.CommitRequested(gtrid), out); // a retry: say the outcome, or wait for it
            return;
        }
        if (t != null) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.FAILED_PRECONDITION, "transaction " + gtrid + " is known here already ("
                    + t.protocol().label + ", " + t.state().status + "): CAN_COMMIT answers ride only on the request that starts it");
            return;
        }
        if (e.branches().size() > config.maxBranchesPerTxn()) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.RESOURCE_EXHAUSTED, "transaction " + gtrid + " would have "
                    + e.branches().size() + " branches, more than the configured maximum of " + config.maxBranchesPerTxn());
            return;
        }
        if (txns.liveCount() + txns.heldCount() >= config.maxLiveTxns()) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.RESOURCE_EXHAUSTED, "the coordinator holds " + txns.liveCount()
                    + " unfinished transactions and " + txns.heldCount() + " waiting for an operator, the configured maximum");
            return;
        }
        t = GlobalTxn.begun(gtrid, e.name() == null ? "" : e.name(), Protocol.THREE_PHASE, e.deadlineMillis(), nowMillis);
        txns.addLive(t);
        for (Event.Voted v : e.branches()) {
            t.addBranch(v.branch());
        }
        threePhase.canCommitHeld(t, e.branches(), nowMillis, out);
        txns.retireIfFinished(t);
    }

    /**
     * The second request of the cheap 3PC (see {@link Event.PreCommitHeld}): only for a 3PC
     * transaction past its PRE_COMMIT record, and only for branches the requester holds. Answered with
     * the decision (now, or once it is made and durable).
     */
    private void onPreCommitHeld(Event.PreCommitHeld e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid) || e.agentId() == null || e.branches() == null || e.branches().isEmpty()) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, "PRE_COMMIT answers need a valid gtrid, the"
                    + " requesting agent and at least one branch, got gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out);
            return;
        }
        if (t.protocol() != Protocol.THREE_PHASE || t.state() == GlobalTxn.State.ACTIVE) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.FAILED_PRECONDITION, "transaction " + gtrid + " is " + t.protocol().label
                    + ", " + t.state().status + ": PRE_COMMIT answers ride only after its PRE_COMMIT record");
            return;
        }
        for (Event.Voted v : e.branches()) {
            BranchProgress b = v == null || v.branch() == null || v.vote() == null ? null : t.branch(v.branch().bqual());
            if (b == null || !b.agentId().equals(e.agentId())) {
                reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, "every PRE_COMMIT answer must be for a branch of "
                        + gtrid + " held by the requesting agent " + Ids.quote(e.agentId()));
                return;
            }
        }
        threePhase.preCommitHeld(t, e.branches(), nowMillis, out);
        if (t.state() != GlobalTxn.State.PRE_COMMIT && t.state() != GlobalTxn.State.LOGGING_DECISION
                && !(t.state() == GlobalTxn.State.ROLLING_BACK && t.abortAwaitingDisk())) {
            onCommitRequested(new Event.CommitRequested(gtrid), out); // decided before: say the outcome
        }
        txns.retireIfFinished(t);
    }

    /** Why a commit with votes is malformed, or null. */
    private static String commitPreparedProblem(Event.CommitPrepared e) {
        if (!Ids.isValidId(e.gtrid())) {
            return "malformed gtrid " + Ids.quote(e.gtrid());
        }
        if (e.name() != null && e.name().length() > Ids.MAX_NAME_CHARS) {
            return "name must be at most " + Ids.MAX_NAME_CHARS + " characters, got " + e.name().length();
        }
        if (e.agentId() == null || e.branches() == null || e.branches().isEmpty()) {
            return "a commit with votes needs the requesting agent and at least one voted branch";
        }
        Set<String> bquals = new LinkedHashSet<>();
        for (Event.Voted v : e.branches()) {
            if (v == null || v.branch() == null || v.vote() == null) {
                return "every voted branch needs a branch and a vote";
            }
            if (!v.branch().agentId().equals(e.agentId())) {
                return "branch " + v.branch().bqual() + " is held by agent " + Ids.quote(v.branch().agentId())
                        + ", not by the requesting agent " + Ids.quote(e.agentId()) + ": only an agent's own prepared branches ride on its commit";
            }
            if (!bquals.add(v.branch().bqual())) {
                return "branch " + v.branch().bqual() + " is named twice";
            }
        }
        return null;
    }

    private void onRollbackRequested(Event.RollbackRequested e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid)) {
            reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.INVALID_ARGUMENT, "malformed gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            answerFinishedOrNotFound(gtrid, RequestKind.ROLLBACK, out);
            return;
        }
        switch (t.state()) {
            // 3PC: aborting before the decision is what a missing answer would do, except in a PRE_COMMIT
            // restored after a restart, where participants may already have committed on their own.
            case ACTIVE, PREPARING, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                if (t.state() == GlobalTxn.State.PRE_COMMIT && t.restored()) {
                    reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.FAILED_PRECONDITION, "transaction " + gtrid
                            + " was restored in PRE_COMMIT: a participant may have committed on its own, so only the"
                            + " branches' answers decide it");
                    return;
                }
                t.note(nowMillis, Kind.ROLLBACK_REQUESTED, null, "by the client");
                twoPhase.abort(t, Outcome.ROLLED_BACK, "the client asked", nowMillis, out);
                txns.retireIfFinished(t);
            }
            case ROLLING_BACK -> {
                if (!t.abortAwaitingDisk()) {
                    out.reply(new Reply.Decided(gtrid, t.outcome()));
                }
            }
            // A one-phase commit may be committing at the database right now, and a logged
            // decision may be durable already: neither can be taken back.
            default -> reject(out, gtrid, RequestKind.ROLLBACK, ErrorCode.FAILED_PRECONDITION,
                    "transaction " + gtrid + " is " + t.state().status + ": its commit is under way and cannot be rolled back");
        }
    }

    private void answerFinishedOrNotFound(String gtrid, RequestKind kind, Effects.Builder out) {
        GlobalTxn done = txns.finished(gtrid);
        if (done != null) {
            out.reply(new Reply.Decided(gtrid, done.outcome()));
            out.reply(new Reply.Finished(gtrid, done.finishedOutcome()));
        } else {
            reject(out, gtrid, kind, ErrorCode.NOT_FOUND, "transaction " + gtrid
                    + " is not known: never begun, or lost in a coordinator restart before a commit decision, so presumed rolled back");
        }
    }

    // ---- agent messages (rules 4, 5, 9) ----

    private void onVote(Event.VoteReceived e, Effects.Builder out) {
        if (e.agentId() == null) {
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.INVALID_ARGUMENT, "a vote must name the agent whose stream carried it");
            return;
        }
        GlobalTxn t = txns.find(e.gtrid());
        BranchProgress b = t == null ? null : t.branch(e.bqual());
        if (b == null) {
            // The driver returns the rejection to the agent, which then inquires (presumed abort).
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.NOT_FOUND,
                    "branch " + Ids.quote(e.bqual()) + " of " + Ids.quote(e.gtrid()) + " is not known");
            return;
        }
        if (!speakers.mayVote(b, e.agentId())) {
            refuseForeign(t, b, e.agentId(), RequestKind.VOTE, "vote " + e.vote(), out);
            return;
        }
        if (e.vote() == null) {
            reject(out, e.gtrid(), RequestKind.VOTE, ErrorCode.INVALID_ARGUMENT, "a vote is required");
            return;
        }
        Action answering = e.answering() == null ? Action.PREPARE : e.answering();
        if (answering == Action.CAN_COMMIT || answering == Action.PRE_COMMIT) {
            threePhase.vote(t, b, e.vote(), answering, nowMillis, out);
        } else {
            twoPhase.vote(t, b, e.vote(), nowMillis, out);
        }
        txns.retireIfFinished(t);
    }

    /**
     * A vote or acknowledgement from an agent that does not hold the branch ({@link Speakers}): refused,
     * with nothing changed but a note in the history, so that an operator sees who tried.
     */
    private void refuseForeign(GlobalTxn t, BranchProgress b, String agentId, RequestKind kind, String what,
                               Effects.Builder out) {
        t.note(nowMillis, Kind.FOREIGN_REFUSED, b.bqual(), what + " from agent " + agentId + " refused: the branch is held by "
                + b.agentId());
        reject(out, t.gtrid(), kind, ErrorCode.PERMISSION_DENIED, "branch " + Ids.quote(b.bqual()) + " of " + Ids.quote(t.gtrid())
                + " is held by another agent; an agent may only " + (kind == RequestKind.VOTE ? "vote for" : "acknowledge")
                + " its own branches");
    }

    private void onAck(Event.AckReceived e, Effects.Builder out) {
        if (e.agentId() == null) {
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.INVALID_ARGUMENT,
                    "an acknowledgement must name the agent whose stream carried it");
            return;
        }
        GlobalTxn known = txns.find(e.gtrid());
        BranchProgress own = known == null ? null : known.branch(e.bqual());
        if (own != null && !speakers.mayAck(own, e.agentId())) {
            refuseForeign(known, own, e.agentId(), RequestKind.ACK, e.action() + " " + e.result(), out);
            return;
        }
        GlobalTxn t = txns.live(e.gtrid());
        BranchProgress b = t == null ? null : t.branch(e.bqual());
        if (b != null) {
            if (e.autonomous() && e.result() == AckResult.DONE) {
                threePhase.participantDecided(t, b, e.action(), nowMillis, out);
            } else {
                twoPhase.ack(t, b, e.action(), e.result(), nowMillis, out);
            }
            txns.retireIfFinished(t);
            return;
        }
        GlobalTxn finished = txns.finished(e.gtrid());
        if (e.autonomous() && e.action() == Action.COMMIT && e.result() == AckResult.DONE && finished != null
                && finished.decidedRollback()) {
            // 3PC's partition hazard, reported after the rollback finished: never dropped silently.
            finished.note(nowMillis, Kind.PARTICIPANT_DECIDED, e.bqual(), "committed on its own while the decision was"
                    + " ROLLBACK (3PC's partition hazard)");
            if (own != null) {
                own.autonomous(Action.COMMIT); // the admin view must say who decided, not only that it is heuristic
            }
            if (twoPhase.lateHeuristic(finished, e.bqual(), AckResult.HEURISTIC_COMMIT, nowMillis, out)) {
                txns.hold(finished);
            }
            return;
        }
        if (e.autonomous() && e.action() == Action.COMMIT && e.result() == AckResult.DONE && finished == null) {
            // A participant committed on its own a transaction this coordinator no longer knows (forgotten, or
            // rolled back and closed before a restart): presumed abort says rolled back, so it is a heuristic
            // commit nobody recorded. Refused like any heuristic for an unknown gtrid, so that the agent and the
            // server log see it instead of it being dropped.
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.NOT_FOUND, "branch " + Ids.quote(e.bqual()) + " of "
                    + Ids.quote(e.gtrid()) + " committed on its own (3PC participant timeout), but this coordinator does not"
                    + " know the transaction (presumed rolled back); an operator must reconcile it at the database");
            return;
        }
        if (e.result() == null || !e.result().isHeuristic()) {
            if (finished != null && e.result() == AckResult.DONE) {
                // A branch the rollback finished without (its agent was gone) acknowledged after all: the
                // returning agent's inquiry got ROLLBACK. Recorded, so the view shows its final state.
                twoPhase.lateAck(finished, e.bqual(), e.action(), nowMillis);
            }
            return; // otherwise acks for unknown or finished transactions repeat work already counted: ignored
        }
        // A heuristic is never dropped silently: a finished transaction is held for an
        // operator again; for an unknown one the refusal reaches the agent and the server's log.
        GlobalTxn done = txns.finished(e.gtrid());
        if (done != null && twoPhase.lateHeuristic(done, e.bqual(), e.result(), nowMillis, out)) {
            txns.hold(done);
        } else if (done == null) {
            reject(out, e.gtrid(), RequestKind.ACK, ErrorCode.NOT_FOUND, "heuristic outcome " + e.result() + " reported for branch "
                    + Ids.quote(e.bqual()) + " of " + Ids.quote(e.gtrid()) + ", a transaction this coordinator does not know;"
                    + " an operator must reconcile it at the database");
        }
    }

    private void onDecisionDurable(Event.DecisionDurable e, Effects.Builder out) {
        GlobalTxn t = txns.live(e.gtrid());
        if (t != null) {
            t.recordDurable();
        }
        if (t != null && t.state() == GlobalTxn.State.LOGGING_PRE_COMMIT) {
            threePhase.preCommitDurable(t, nowMillis, out);
        } else if (t != null && t.state() == GlobalTxn.State.ROLLING_BACK) {
            twoPhase.abortDurable(t, nowMillis, out);
            txns.retireIfFinished(t);
        } else if (t != null) {
            twoPhase.decisionDurable(t, nowMillis, out);
            txns.retireIfFinished(t);
        }
    }

    private void onInquiry(Event.Inquiry e, Effects.Builder out) {
        if (!Ids.isValidId(e.gtrid()) || !Ids.isValidId(e.bqual()) || e.agentId() == null) {
            // Not one of our xids (the agent filters by format id), so there is nothing to answer.
            reject(out, e.gtrid(), RequestKind.INQUIRY, ErrorCode.INVALID_ARGUMENT,
                    "inquiry needs a valid gtrid, bqual and agent id, got " + Ids.quote(e.gtrid()) + "/" + Ids.quote(e.bqual()));
            return;
        }
        if (config.foreignGtrid(e.gtrid())) {
            // Another deployment's branch, seen by XA RECOVER on a database server both use. Presuming it
            // aborted could roll back what that deployment committed: answer that it is not ours, nothing else.
            reject(out, e.gtrid(), RequestKind.INQUIRY, ErrorCode.FAILED_PRECONDITION, notMine(e.gtrid(), config.clusterId()));
            return;
        }
        GlobalTxn t = txns.live(e.gtrid());
        if (t != null) {
            twoPhase.inquiry(t, e.bqual(), e.agentId(), nowMillis, out);
            // 3PC: a branch held prepared is the PRE_COMMIT YES that may have been lost.
            BranchProgress b = t.branch(e.bqual());
            if (b != null && b.agentId().equals(e.agentId())) {
                threePhase.inquiryAnswers(t, b, nowMillis, out);
                txns.retireIfFinished(t);
            }
            return;
        }
        GlobalTxn done = txns.finished(e.gtrid());
        if (done != null) {
            twoPhase.inquiryFinished(done, e.bqual(), e.agentId(), nowMillis, out);
        } else if (e.presumeAbort() && !goneAgents.contains(e.agentId())) {
            // Presumed abort: no decision record survives for this gtrid, so it never committed. Remembered
            // as rolled back, so that a commit with votes for it still on its way is answered ROLLED_BACK
            // instead of committing around the branch this ROLLBACK undoes.
            txns.addRemembered(GlobalTxn.presumedAborted(e.gtrid(), nowMillis));
            out.send(new Outbound(e.agentId(), e.gtrid(), e.bqual(), Action.ROLLBACK));
        }
    }

    // ---- takeover of a dead node (docs/ha.md) ----

    /**
     * The open records of a node this server took over, rebuilt as {@link #restore} rebuilds its own.
     * Their branches are pending and due at once, so their commands go out on the next Tick or
     * AgentConnected, exactly as after a restart. Completed records only end an open one of the same
     * batch: a finished transaction of another node is not ours to remember. A gtrid already known here
     * is skipped rather than rebuilt over what this coordinator is doing with it.
     */
    private void onAdopted(Event.Adopted e) {
        LogReplay replay = LogReplay.of(e.records());
        for (String gtrid : replay.open) {
            if (txns.find(gtrid) != null) {
                continue;
            }
            restoreOpen(replay, gtrid, "adopted from " + e.from() + ": ");
        }
    }

    // ---- time and agents (rules 6, 7, 8) ----

    private void onTick(Event.Tick e, Effects.Builder out) {
        // Monotonic by contract; a tick that goes back is ignored rather than trusted.
        nowMillis = clockStarted ? Math.max(nowMillis, e.nowMillis()) : e.nowMillis();
        clockStarted = true;
        for (GlobalTxn t : txns.liveSnapshot()) {
            twoPhase.tick(t, nowMillis, out);
            txns.retireIfFinished(t);
        }
    }

    private void onAgentConnected(Event.AgentConnected e, Effects.Builder out) {
        goneAgents.remove(e.agentId());
        connectedAgents.add(e.agentId());
        for (GlobalTxn t : txns.liveTxns()) {
            twoPhase.agentConnected(t, e.agentId(), nowMillis, out);
        }
    }

    private void onAgentDisconnected(Event.AgentDisconnected e, Effects.Builder out) {
        if (e.agentId() == null) {
            return;
        }
        goneAgents.add(e.agentId());
        connectedAgents.remove(e.agentId());
        for (GlobalTxn t : txns.liveSnapshot()) {
            twoPhase.agentDisconnected(t, e.agentId(), nowMillis, out);
            txns.retireIfFinished(t);
        }
    }

    // ---- bookkeeping ----

    /** Why a gtrid of another cluster gets no answer; starts with "not mine", which the transport keys on. */
    public static String notMine(String gtrid, String clusterId) {
        return "not mine: gtrid " + Ids.quote(gtrid) + " belongs to xatm cluster " + Ids.clusterOf(gtrid) + ", this coordinator is"
                + " cluster " + clusterId + " (another deployment sharing the database server); nothing is presumed, leave the branch alone";
    }

    private static void reject(Effects.Builder out, String gtrid, RequestKind kind, ErrorCode code, String message) {
        out.reply(new Reply.Rejected(gtrid, kind, code, message));
    }
}
