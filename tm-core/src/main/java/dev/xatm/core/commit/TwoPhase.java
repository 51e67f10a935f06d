package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.Vote;
import dev.xatm.core.commit.BranchProgress.Phase;
import dev.xatm.core.commit.GlobalTxn.State;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The rules of presumed-abort 2PC for one transaction at a time ("Core semantics" 3-10 of the
 * design notes): it moves a {@link GlobalTxn} and writes the log records, messages and replies
 * that follow into an {@link Effects.Builder}. It never looks a transaction up and never forgets
 * one; the {@link Coordinator} does that. Not thread-safe.
 *
 * <p>The one invariant everything here protects: a COMMIT leaves only for a transaction whose
 * decision record is durable, and once a transaction is decided its outcome never changes.
 *
 * <p>Every transition also notes what happened in the transaction's history (for the admin API);
 * those notes decide nothing.
 */
final class TwoPhase {
    private final CoordinatorConfig config;
    /** Agents whose stream ended and has not come back; shared with the Coordinator, read-only here. */
    private final Set<String> goneAgents;

    TwoPhase(CoordinatorConfig config, Set<String> goneAgents) {
        this.config = config;
        this.goneAgents = goneAgents;
    }

    // ---- phase 1 ----

    /** Rule 3, for an ACTIVE transaction: the number of branches picks the protocol. */
    void commit(GlobalTxn t, long nowMillis, Effects.Builder out) {
        t.note(nowMillis, Kind.COMMIT_REQUESTED, null, t.branchCount() + " branch(es)");
        if (t.branchCount() == 0) {
            // Nothing to prepare, nothing to log: committing no work cannot fail.
            t.finishCommitted(nowMillis);
            decidedAndFinished(t, nowMillis, out);
        } else if (t.branchCount() == 1) {
            // One branch decides alone (XA COMMIT ... ONE PHASE), so there is no decision
            // to log. Never timed out: the agent may be committing right now.
            t.startOnePhase(nowMillis);
            BranchProgress only = t.branches().iterator().next();
            only.commitOnePhase(config, nowMillis);
            t.note(nowMillis, Kind.ONE_PHASE_COMMIT_SENT, only.bqual(), "to agent " + only.agentId());
            send(t, only, nowMillis, out);
        } else {
            t.startPrepare(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.prepareTimeoutMillis())), nowMillis);
            t.note(nowMillis, Kind.PREPARE_SENT, null, "to " + t.branchCount() + " branches");
            for (BranchProgress b : t.branches()) {
                b.prepare(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
    }

    /**
     * Rule 3 for a commit that brings votes (Event.CommitPrepared) for an ACTIVE transaction whose
     * voted branches were just added: their votes count as answers to a PREPARE that was never sent;
     * every other branch (registered by another agent) gets PREPARE as usual.
     */
    void commitPrepared(GlobalTxn t, List<Event.Voted> voted, long nowMillis, Effects.Builder out) {
        t.note(nowMillis, Kind.COMMIT_REQUESTED, null, t.branchCount() + " branch(es), " + voted.size()
                + " of them prepared by the requesting agent");
        t.startPrepare(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.prepareTimeoutMillis())), nowMillis);
        int toAsk = 0;
        for (Event.Voted v : voted) {
            BranchProgress b = t.branch(v.branch().bqual());
            b.votedByHolder(v.vote());
            t.note(nowMillis, Kind.VOTE, b.bqual(), v.vote().name() + " (prepared by its holder before the commit request)");
        }
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.REGISTERED) {
                b.prepare(config, nowMillis);
                send(t, b, nowMillis, out);
                toAsk++;
            }
        }
        if (toAsk > 0) {
            t.note(nowMillis, Kind.PREPARE_SENT, null, "to " + toAsk + " branch(es) of other agents");
        }
        switch (VoteTally.outcome(t.branchCount(), t.votes())) {
            case PENDING -> { }
            case ABORT -> abort(t, Outcome.ROLLED_BACK, "a branch prepared by its holder voted NO", nowMillis, out);
            case COMMIT -> decideCommit(t, nowMillis, out);
        }
    }

    /** Rule 4. The Coordinator has checked that gtrid and bqual are known. */
    void vote(GlobalTxn t, BranchProgress b, Vote vote, long nowMillis, Effects.Builder out) {
        if (t.state() == State.PREPARING && b.phase() == Phase.PREPARING) {
            b.voted(vote);
            t.note(nowMillis, Kind.VOTE, b.bqual(), vote.name());
            switch (VoteTally.outcome(t.branchCount(), t.votes())) {
                case PENDING -> { }
                case ABORT -> abort(t, Outcome.ROLLED_BACK, "branch " + b.bqual() + " voted NO", nowMillis, out);
                case COMMIT -> decideCommit(t, nowMillis, out);
            }
            return;
        }
        // Late or duplicate. Only a YES needs an answer: that branch now sits prepared, holding its
        // locks, and nobody else would ever tell it to roll back.
        if (vote == Vote.YES && (t.state() == State.ROLLING_BACK || t.state() == State.FINISHED_ROLLED_BACK
                || (t.state() == State.FINISHED_HEURISTIC && t.decidedRollback()))) {
            t.note(nowMillis, Kind.VOTE, b.bqual(), "late YES, answered with ROLLBACK");
            if (b.phase() == Phase.ROLLING_BACK) {
                b.resetBackoff(config, nowMillis);
                send(t, b, nowMillis, out);
            } else {
                sendOnce(b.agentId(), t.gtrid(), b.bqual(), Action.ROLLBACK, out);
            }
        }
    }

    void decideCommit(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (!VoteTally.needsDecisionRecord(t.votes())) {
            // All read-only: every branch is finished already; there is nothing to commit or to recover.
            t.finishCommitted(nowMillis);
            decidedAndFinished(t, nowMillis, out);
            return;
        }
        // The decision is made, but nothing may act on it until it is durable (like raft's
        // Ready: entries reach stable storage before messages go out). A crash before that point
        // loses the record, and the restarted coordinator presumes the transaction aborted.
        t.decideCommit(nowMillis);
        t.note(nowMillis, Kind.DECISION_LOGGED, null, "COMMIT decision appended; waiting for it to be durable");
        out.append(new LogRecord.Decision(t.gtrid(), t.name(), t.yesBranches()));
    }

    /** Rule 4, second half: only now may COMMIT go out and the client hear COMMITTED. */
    void decisionDurable(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() != State.LOGGING_DECISION) {
            return; // a duplicate, or a transaction restored as already durable
        }
        t.decisionDurable();
        int sent = 0;
        int byHolder = 0;
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.PREPARED && b.committedByHolder()) {
                b.commitByHolder(config, nowMillis); // its holder commits it on hearing the reply below
                byHolder++;
            } else if (b.phase() == Phase.PREPARED) {
                b.commit(config, nowMillis);
                send(t, b, nowMillis, out);
                sent++;
            }
        }
        t.note(nowMillis, Kind.DECISION_DURABLE, null, byHolder == 0 ? "COMMIT sent to every YES branch"
                : "COMMIT sent to " + sent + " branch(es); " + byHolder + " committed by the agent that prepared them"
                        + " (COMMIT follows only if they do not acknowledge)");
        out.reply(new Reply.Decided(t.gtrid(), Outcome.COMMITTED));
        // 3PC: every participant may have committed on its own already, leaving nothing to send.
        finishCommitIfDone(t, nowMillis, out);
    }

    // ---- phase 2 ----

    /**
     * Rule 5. Anything that does not answer an outstanding command is a duplicate and ignored. A
     * heuristic answer ends the branch's phase 2 (resending cannot change what its database did) and
     * the transaction then finishes as FINISHED_HEURISTIC, held for an operator.
     */
    void ack(GlobalTxn t, BranchProgress b, Action action, AckResult result, long nowMillis, Effects.Builder out) {
        if (action == null || result == null || action != b.pending()) {
            return;
        }
        switch (t.state()) {
            case COMMITTING -> {
                if (result.isHeuristic()) {
                    heuristic(t, b, result, nowMillis);
                } else if (result == AckResult.DONE) {
                    b.committed();
                    t.note(nowMillis, Kind.ACK, b.bqual(), "COMMIT done");
                } else {
                    return; // not an answer the agent contract gives to COMMIT; keep resending
                }
                finishCommitIfDone(t, nowMillis, out);
            }
            case ROLLING_BACK -> {
                if (result.isHeuristic()) {
                    heuristic(t, b, result, nowMillis);
                    logHeuristics(t, out);
                } else {
                    b.rolledBack();
                    t.note(nowMillis, Kind.ACK, b.bqual(), "ROLLBACK done");
                }
                finishRollbackIfDone(t, nowMillis, out);
            }
            case COMMITTING_ONE_PHASE -> {
                if (result.isHeuristic()) {
                    heuristic(t, b, result, nowMillis);
                    t.finishHeuristic(nowMillis);
                    t.note(nowMillis, Kind.FINISHED, null, "one-phase commit ended with a heuristic outcome; needs an operator");
                } else if (result == AckResult.DONE) {
                    b.committed();
                    t.finishCommitted(nowMillis);
                    t.note(nowMillis, Kind.FINISHED, b.bqual(), "one-phase commit done: COMMITTED");
                } else {
                    b.rolledBack();
                    t.finishRolledBack(nowMillis);
                    t.note(nowMillis, Kind.FINISHED, b.bqual(), "one-phase commit rolled back instead: ROLLED_BACK");
                }
                decidedAndFinished(t, nowMillis, out);
            }
            default -> { }
        }
    }

    private void finishCommitIfDone(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() != State.COMMITTING || !noneIn(t, Phase.COMMITTING)) {
            return;
        }
        if (t.hasHeuristicBranch()) {
            // No Completed record yet: a restart resends COMMIT, and the database, which
            // remembers its heuristic until forgotten, reports it again. Forget writes it.
            finishHeuristic(t, nowMillis, out);
            return;
        }
        // No fsync of its own: if lost, recovery resends an idempotent COMMIT (LogRecord.Completed).
        out.append(new LogRecord.Completed(t.gtrid()));
        t.finishCommitted(nowMillis);
        t.note(nowMillis, Kind.FINISHED, null, "COMMITTED; every branch acknowledged");
        out.reply(new Reply.Finished(t.gtrid(), Outcome.COMMITTED));
    }

    /**
     * A heuristic answer for a finished transaction (to a resent command or an inquiry's answer):
     * recorded on it, and it is held for an operator again. True if it was recorded.
     */
    boolean lateHeuristic(GlobalTxn t, String bqual, AckResult result, long nowMillis, Effects.Builder out) {
        if (!t.isFinished() || result == null || !result.isHeuristic()) {
            return false;
        }
        BranchProgress b = t.branch(bqual);
        if (b != null) {
            b.lateHeuristic(result);
        }
        t.note(nowMillis, Kind.HEURISTIC, bqual, result + " reported after the transaction finished");
        t.finishHeuristic(nowMillis);
        logHeuristics(t, out);
        return true;
    }

    /**
     * A rolled-back transaction's heuristic branches go to the log (presumed abort wrote nothing else
     * for it), so a restart still holds it for an operator. A committed one needs nothing: its
     * Decision stays open until it is forgotten.
     */
    void logHeuristics(GlobalTxn t, Effects.Builder out) {
        if (!t.decidedRollback()) {
            return;
        }
        List<LogRecord.BranchHeuristic> heuristics = new ArrayList<>();
        for (BranchProgress b : t.branches()) {
            if (b.heuristic() != null) {
                heuristics.add(new LogRecord.BranchHeuristic(b.currentBranch(), b.heuristic()));
            }
        }
        if (!heuristics.isEmpty()) {
            out.append(new LogRecord.Heuristics(t.gtrid(), t.name(), t.outcome(), heuristics));
            t.markHeuristicsLogged();
        }
    }

    private void heuristic(GlobalTxn t, BranchProgress b, AckResult result, long nowMillis) {
        b.heuristic(result);
        t.note(nowMillis, Kind.HEURISTIC, b.bqual(), result + " reported by " + b.branch().resourceId()
                + " (the database decided the branch on its own)");
    }

    private void finishHeuristic(GlobalTxn t, long nowMillis, Effects.Builder out) {
        t.finishHeuristic(nowMillis);
        t.note(nowMillis, Kind.FINISHED, null, "phase 2 over with a heuristic outcome (decided " + t.outcome()
                + "); held until an operator forgets it");
        out.reply(new Reply.Finished(t.gtrid(), t.finishedOutcome()));
    }

    /**
     * Abort an undecided transaction (rule 4, 6, 8, 10): ROLLBACK to every branch that is not
     * read-only, the NO voter included.
     */
    void abort(GlobalTxn t, Outcome why, String reason, long nowMillis, Effects.Builder out) {
        t.abort(why, nowMillis);
        t.note(nowMillis, Kind.ABORTED, null, why + ": " + reason);
        if (t.preCommitLogged()) {
            // 3PC: without this a restart would find the PRE_COMMIT record and ask the branches again, and
            // could commit. The ROLLBACKs go now (a branch that got one answers NO if asked again); the
            // client hears ROLLED_BACK only once the record is durable (abortDurable).
            out.append(new LogRecord.Aborted(t.gtrid()));
            t.abortLogged();
        }
        for (BranchProgress b : t.branches()) {
            // Read-only branches are finished; a heuristic one (3PC: it committed on its own) cannot be undone.
            if (b.phase() != Phase.READ_ONLY && b.phase() != Phase.HEURISTIC) {
                b.rollback(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
        if (t.abortAwaitingDisk()) {
            return;
        }
        out.reply(new Reply.Decided(t.gtrid(), why));
        finishRollbackIfDone(t, nowMillis, out);
    }

    /** 3PC: the Aborted record is durable: the rollback may be announced, and finish. */
    void abortDurable(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() != State.ROLLING_BACK || t.abortAwaitingDisk()) {
            return;
        }
        t.note(nowMillis, Kind.ABORT_DURABLE, null, "Aborted record durable; the rollback is announced");
        out.reply(new Reply.Decided(t.gtrid(), t.outcome()));
        finishRollbackIfDone(t, nowMillis, out);
    }

    /**
     * Rule 8: a rollback does not wait for branches whose agent is gone. Presumed abort makes that
     * safe: the agent inquires about every prepared branch when it comes back and gets ROLLBACK,
     * while its unprepared branches died with its session.
     */
    void finishRollbackIfDone(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.abortAwaitingDisk()) {
            return; // 3PC: not finished, nor announced, before its Aborted record is durable
        }
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.ROLLING_BACK && !goneAgents.contains(b.agentId())) {
                return;
            }
        }
        if (t.hasHeuristicBranch()) {
            finishHeuristic(t, nowMillis, out);
            return;
        }
        if (t.preCommitLogged()) {
            out.append(new LogRecord.Completed(t.gtrid())); // lazy, like every Completed
        }
        t.finishRolledBack(nowMillis);
        t.note(nowMillis, Kind.FINISHED, null, t.outcome() + "; every branch acknowledged or its agent is gone");
        out.reply(new Reply.Finished(t.gtrid(), t.outcome()));
    }

    // ---- time ----

    /** Rule 6: deadlines, then whatever command is due again. */
    void tick(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() == State.ACTIVE && nowMillis >= t.deadlineMillis()) {
            abort(t, Outcome.TIMED_OUT, "the deadline passed before a commit was asked", nowMillis, out);
        } else if (t.state() == State.PREPARING && nowMillis >= t.voteDeadlineMillis()) {
            // A missing vote counts as NO. TIMED_OUT only when the global deadline is what ran out.
            abort(t, nowMillis >= t.deadlineMillis() ? Outcome.TIMED_OUT : Outcome.ROLLED_BACK,
                    "no vote from " + unvoted(t) + " in time", nowMillis, out);
        } else if ((t.state() == State.CAN_COMMIT || t.state() == State.PRE_COMMIT) && nowMillis >= t.voteDeadlineMillis()) {
            // 3PC: a missing answer aborts, in either phase (a restored PRE_COMMIT has no answer deadline).
            String phase = t.state() == State.CAN_COMMIT ? "CAN_COMMIT" : "PRE_COMMIT";
            abort(t, nowMillis >= t.deadlineMillis() ? Outcome.TIMED_OUT : Outcome.ROLLED_BACK,
                    "no answer to " + phase + " from " + unanswered(t) + " in time", nowMillis, out);
        }
        if (t.isFinished()) {
            return;
        }
        for (BranchProgress b : t.branches()) {
            if (b.isDue(nowMillis)) {
                send(t, b, nowMillis, out);
            }
        }
    }

    // ---- helpers ----

    /**
     * Sends the branch's pending command and books the next attempt. An agent known to be gone has
     * no stream to carry it; it gets the command again when it reconnects (rule 7).
     */
    void send(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        b.attempted(config, nowMillis);
        sendOnce(b.agentId(), t.gtrid(), b.bqual(), b.pending(), out);
    }

    void sendOnce(String agentId, String gtrid, String bqual, Action action, Effects.Builder out) {
        if (!goneAgents.contains(agentId)) {
            out.send(new Outbound(agentId, gtrid, bqual, action, participantTimeout(action)));
        }
    }

    /** 3PC: how long the participant waits, once it answered this command, before it decides on its own. */
    private long participantTimeout(Action action) {
        return switch (action) {
            case CAN_COMMIT -> config.threePhase().participantCanCommitMillis();
            case PRE_COMMIT -> config.threePhase().participantPreCommitMillis();
            default -> 0;
        };
    }

    static void decidedAndFinished(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() == State.FINISHED_COMMITTED && t.branchCount() != 1) {
            t.note(nowMillis, Kind.FINISHED, null, "COMMITTED with nothing to commit (no branch, or all read-only)");
        }
        out.reply(new Reply.Decided(t.gtrid(), t.finishedOutcome()));
        out.reply(new Reply.Finished(t.gtrid(), t.finishedOutcome()));
    }

    private static String unvoted(GlobalTxn t) {
        List<String> missing = new ArrayList<>();
        for (BranchProgress b : t.branches()) {
            if (b.vote() == null) {
                missing.add(b.bqual());
            }
        }
        return missing.isEmpty() ? "every branch" : String.join(", ", missing);
    }

    private static String unanswered(GlobalTxn t) {
        List<String> missing = new ArrayList<>();
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.ASKED || b.phase() == Phase.PRE_COMMITTING) {
                missing.add(b.bqual());
            }
        }
        return missing.isEmpty() ? "every branch" : String.join(", ", missing);
    }

    private static boolean noneIn(GlobalTxn t, Phase phase) {
        for (BranchProgress b : t.branches()) {
            if (b.phase() == phase) {
                return false;
            }
        }
        return true;
    }
}
