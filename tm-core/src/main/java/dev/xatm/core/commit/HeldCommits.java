package dev.xatm.core.commit;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.LongSupplier;

import static dev.xatm.core.commit.Coordinator.reject;

/**
 * The requests that bring their own branches' answers instead of a coordinator-driven round: the
 * one round trip of 2PC ({@link Event.CommitPrepared}) and the cheap three-phase commit
 * ({@link Event.CanCommitHeld}, {@link Event.PreCommitHeld}). Everything is checked before anything
 * changes. Part of {@link Coordinator}; same thread as its {@code step}, not thread-safe.
 */
final class HeldCommits {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    private final TwoPhase twoPhase;
    private final ThreePhase threePhase;
    /** For a retried request: the outcome, as a plain commit request would hear it. */
    private final ClientRequests requests;
    private final LongSupplier clock;

    HeldCommits(CoordinatorConfig config, TxnTable txns, TwoPhase twoPhase, ThreePhase threePhase, ClientRequests requests,
                LongSupplier clock) {
        this.config = config;
        this.txns = txns;
        this.twoPhase = twoPhase;
        this.threePhase = threePhase;
        this.requests = requests;
        this.clock = clock;
    }

    private long now() {
        return clock.getAsLong();
    }

    /**
     * the one round trip (see {@link Event.CommitPrepared}). Everything is checked before
     * anything changes, so a refused request leaves no trace; a repeated one (the client retried)
     * gets the outcome again.
     */
    void onCommitPrepared(Event.CommitPrepared e, Effects.Builder out) {
        String gtrid = e.gtrid();
        String problem = commitPreparedProblem(e);
        if (problem != null) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, problem);
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null && txns.finished(gtrid) != null) {
            requests.answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out); // a retry, or presumed aborted by an inquiry
            return;
        }
        if (t != null && t.state() != GlobalTxn.State.ACTIVE) {
            requests.onCommitRequested(new Event.CommitRequested(gtrid), out); // a retry: say the outcome, or wait for it
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
            t = GlobalTxn.begun(gtrid, e.name() == null ? "" : e.name(), Protocol.TWO_PHASE, e.deadlineMillis(), now());
            txns.addLive(t);
        }
        for (Event.Voted v : e.branches()) {
            if (t.branch(v.branch().bqual()) == null) {
                t.addBranch(v.branch());
            }
        }
        twoPhase.commitPrepared(t, e.branches(), now(), out);
        txns.retireIfFinished(t);
    }

    /**
     * The cheap 3PC start (see {@link Event.CanCommitHeld}). Only for a gtrid the coordinator does not
     * know: a begun one takes the coordinator-driven path. As for a commit with votes, everything is
     * checked before anything changes, and a repeated request gets the outcome (or waits for it).
     */
    void onCanCommitHeld(Event.CanCommitHeld e, Effects.Builder out) {
        String gtrid = e.gtrid();
        String problem = commitPreparedProblem(new Event.CommitPrepared(gtrid, e.name(), e.deadlineMillis(), e.agentId(), e.branches()));
        if (problem != null) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, problem);
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null && txns.finished(gtrid) != null) {
            requests.answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out); // a retry, or presumed aborted by an inquiry
            return;
        }
        if (t != null && t.state() == GlobalTxn.State.PRE_COMMIT && !t.restored()) {
            out.reply(new Reply.PreCommitted(gtrid, config.threePhase().participantPreCommitMillis())); // a retry
            return;
        }
        if (t != null && t.state() != GlobalTxn.State.ACTIVE && t.protocol() == Protocol.THREE_PHASE) {
            requests.onCommitRequested(new Event.CommitRequested(gtrid), out); // a retry: say the outcome, or wait for it
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
        t = GlobalTxn.begun(gtrid, e.name() == null ? "" : e.name(), Protocol.THREE_PHASE, e.deadlineMillis(), now());
        txns.addLive(t);
        for (Event.Voted v : e.branches()) {
            t.addBranch(v.branch());
        }
        threePhase.canCommitHeld(t, e.branches(), now(), out);
        txns.retireIfFinished(t);
    }

    /**
     * The second request of the cheap 3PC (see {@link Event.PreCommitHeld}): only for a 3PC
     * transaction past its PRE_COMMIT record, and only for branches the requester holds. Answered with
     * the decision (now, or once it is made and durable).
     */
    void onPreCommitHeld(Event.PreCommitHeld e, Effects.Builder out) {
        String gtrid = e.gtrid();
        if (!Ids.isValidId(gtrid) || e.agentId() == null || e.branches() == null || e.branches().isEmpty()) {
            reject(out, gtrid, RequestKind.COMMIT, ErrorCode.INVALID_ARGUMENT, "PRE_COMMIT answers need a valid gtrid, the"
                    + " requesting agent and at least one branch, got gtrid " + Ids.quote(gtrid));
            return;
        }
        GlobalTxn t = txns.live(gtrid);
        if (t == null) {
            requests.answerFinishedOrNotFound(gtrid, RequestKind.COMMIT, out);
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
        threePhase.preCommitHeld(t, e.branches(), now(), out);
        if (t.state() != GlobalTxn.State.PRE_COMMIT && t.state() != GlobalTxn.State.LOGGING_DECISION
                && !(t.state() == GlobalTxn.State.ROLLING_BACK && t.abortAwaitingDisk())) {
            requests.onCommitRequested(new Event.CommitRequested(gtrid), out); // decided before: say the outcome
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
}
