package dev.xatm.core.commit;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.TxnViews;

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
 * <p>This class owns the clock and the agents' presence and routes each event: client requests to
 * {@link ClientRequests} and {@link HeldCommits}, agents' messages and the shared store's verdicts to
 * {@link AgentMessages}, restored and adopted log records to {@link LogRebuild}, an operator's forced
 * resolutions to {@link OperatorCommands}; the protocol rules for one transaction are in
 * {@link TwoPhase} and {@link ThreePhase}, transactions are kept in {@link TxnTable}, and the read-only
 * admin views are {@link AdminViews} ({@link #views()}).
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
    private final ClientRequests requests;
    private final HeldCommits heldCommits;
    private final AgentMessages agentMessages;
    private final LogRebuild rebuild;
    private final AgentPresence presence;
    private long nowMillis;
    private boolean clockStarted;

    public Coordinator(CoordinatorConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.txns = new TxnTable(config.finishedMemory());
        this.twoPhase = new TwoPhase(config, goneAgents);
        this.threePhase = new ThreePhase(config, twoPhase);
        this.operator = new OperatorCommands(config, txns, twoPhase, goneAgents);
        this.views = new AdminViews(txns, goneAgents, connectedAgents, () -> nowMillis);
        this.requests = new ClientRequests(config, txns, twoPhase, threePhase, connectedAgents, () -> nowMillis);
        this.heldCommits = new HeldCommits(config, txns, twoPhase, threePhase, requests, () -> nowMillis);
        this.agentMessages = new AgentMessages(config, txns, twoPhase, threePhase, speakers, goneAgents, () -> nowMillis);
        this.rebuild = new LogRebuild(config, txns, () -> nowMillis);
        this.presence = new AgentPresence(config, twoPhase);
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
                    ? RestoredTxns.finished(gtrid, "", List.of())
                    : RestoredTxns.finished(gtrid, d.name(), d.branches()))
                    .restoredAt(nowMillis, "COMMITTED and completed before the restart (from the log)"));
        }
        for (String gtrid : open) {
            c.rebuild.restoreOpen(replay, gtrid, "");
        }
        return c;
    }

    /** Applies one event and returns what the driver must do about it. */
    public Effects step(Event event) {
        Objects.requireNonNull(event, "event");
        Effects.Builder out = new Effects.Builder();
        if (event instanceof Event.Tick e) {
            onTick(e, out);
        } else if (event instanceof Event.Begin e) {
            requests.onBegin(e, out);
        } else if (event instanceof Event.RegisterBranch e) {
            requests.onRegisterBranch(e, out);
        } else if (event instanceof Event.CommitRequested e) {
            requests.onCommitRequested(e, out);
        } else if (event instanceof Event.CommitPrepared e) {
            heldCommits.onCommitPrepared(e, out);
        } else if (event instanceof Event.CanCommitHeld e) {
            heldCommits.onCanCommitHeld(e, out);
        } else if (event instanceof Event.PreCommitHeld e) {
            heldCommits.onPreCommitHeld(e, out);
        } else if (event instanceof Event.RollbackRequested e) {
            requests.onRollbackRequested(e, out);
        } else if (event instanceof Event.VoteReceived e) {
            agentMessages.onVote(e, out);
        } else if (event instanceof Event.AckReceived e) {
            agentMessages.onAck(e, out);
        } else if (event instanceof Event.DecisionDurable e) {
            onDecisionDurable(e, out);
        } else if (event instanceof Event.AgentConnected e) {
            onAgentConnected(e, out);
        } else if (event instanceof Event.AgentDisconnected e) {
            onAgentDisconnected(e, out);
        } else if (event instanceof Event.Inquiry e) {
            agentMessages.onInquiry(e, out);
        } else if (event instanceof Event.StoreVerdict e) {
            agentMessages.onStoreVerdict(e, out);
        } else if (event instanceof Event.Adopted e) {
            rebuild.onAdopted(e);
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

    // ---- the log (rules 4, 5) ----

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
            presence.agentConnected(t, e.agentId(), nowMillis, out);
        }
    }

    private void onAgentDisconnected(Event.AgentDisconnected e, Effects.Builder out) {
        if (e.agentId() == null) {
            return;
        }
        goneAgents.add(e.agentId());
        connectedAgents.remove(e.agentId());
        for (GlobalTxn t : txns.liveSnapshot()) {
            presence.agentDisconnected(t, e.agentId(), nowMillis, out);
            txns.retireIfFinished(t);
        }
    }

    // ---- bookkeeping ----

    /** Why a gtrid of another cluster gets no answer; starts with "not mine", which the transport keys on. */
    public static String notMine(String gtrid, String clusterId) {
        return "not mine: gtrid " + Ids.quote(gtrid) + " belongs to xatm cluster " + Ids.clusterOf(gtrid) + ", this coordinator is"
                + " cluster " + clusterId + " (another deployment sharing the database server); nothing is presumed, leave the branch alone";
    }

    static void reject(Effects.Builder out, String gtrid, RequestKind kind, ErrorCode code, String message) {
        out.reply(new Reply.Rejected(gtrid, kind, code, message));
    }
}
