package dev.xatm.core.twophase;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.Vote;
import dev.xatm.core.twophase.BranchProgress.Phase;
import dev.xatm.core.twophase.GlobalTxn.State;

import java.util.Set;

/**
 * The rules of presumed-abort 2PC for one transaction at a time ("Core semantics" 3-10 of the
 * design notes): it moves a {@link GlobalTxn} and writes the log records, messages and replies
 * that follow into an {@link Effects.Builder}. It never looks a transaction up and never forgets
 * one; the {@link Coordinator} does that. Not thread-safe.
 *
 * <p>The one invariant everything here protects: a COMMIT leaves only for a transaction whose
 * decision record is durable, and once a transaction is decided its outcome never changes.
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
        if (t.branchCount() == 0) {
            // Nothing to prepare, nothing to log: committing no work cannot fail.
            t.finishCommitted();
            decidedAndFinished(t, out);
        } else if (t.branchCount() == 1) {
            // One branch decides alone (XA COMMIT ... ONE PHASE, SPEC §2), so there is no decision
            // to log. Never timed out: the agent may be committing right now (XA-FACTS E.39).
            t.startOnePhase();
            BranchProgress only = t.branches().iterator().next();
            only.commitOnePhase(config, nowMillis);
            send(t, only, nowMillis, out);
        } else {
            t.startPrepare(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.prepareTimeoutMillis())));
            for (BranchProgress b : t.branches()) {
                b.prepare(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
    }

    /** Rule 4. The Coordinator has checked that gtrid and bqual are known. */
    void vote(GlobalTxn t, BranchProgress b, Vote vote, long nowMillis, Effects.Builder out) {
        if (t.state() == State.PREPARING && b.phase() == Phase.PREPARING) {
            b.voted(vote);
            switch (VoteTally.outcome(t.branchCount(), t.votes())) {
                case PENDING -> { }
                case ABORT -> abort(t, Outcome.ROLLED_BACK, nowMillis, out);
                case COMMIT -> decideCommit(t, out);
            }
            return;
        }
        // Late or duplicate. Only a YES needs an answer: that branch now sits prepared, holding its
        // locks, and nobody else would ever tell it to roll back.
        if (vote == Vote.YES && (t.state() == State.ROLLING_BACK || t.state() == State.FINISHED_ROLLED_BACK)) {
            if (b.phase() == Phase.ROLLING_BACK) {
                b.resetBackoff(config, nowMillis);
                send(t, b, nowMillis, out);
            } else {
                sendOnce(b.agentId(), t.gtrid(), b.bqual(), Action.ROLLBACK, out);
            }
        }
    }

    private void decideCommit(GlobalTxn t, Effects.Builder out) {
        if (!VoteTally.needsDecisionRecord(t.votes())) {
            // All read-only: every branch is finished already; there is nothing to commit or to recover.
            t.finishCommitted();
            decidedAndFinished(t, out);
            return;
        }
        // The decision is made, but nothing may act on it until it is durable (SPEC §2, like raft's
        // Ready: entries reach stable storage before messages go out). A crash before that point
        // loses the record, and the restarted coordinator presumes the transaction aborted.
        t.decideCommit();
        out.append(new LogRecord.Decision(t.gtrid(), t.name(), t.yesBranches()));
    }

    /** Rule 4, second half: only now may COMMIT go out and the client hear COMMITTED. */
    void decisionDurable(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() != State.LOGGING_DECISION) {
            return; // a duplicate, or a transaction restored as already durable
        }
        t.decisionDurable();
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.PREPARED) {
                b.commit(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
        out.reply(new Reply.Decided(t.gtrid(), Outcome.COMMITTED));
    }

    // ---- phase 2 ----

    /** Rule 5. Anything that does not answer an outstanding command is a duplicate and ignored. */
    void ack(GlobalTxn t, BranchProgress b, Action action, AckResult result, Effects.Builder out) {
        if (action == null || result == null || action != b.pending()) {
            return;
        }
        switch (t.state()) {
            case COMMITTING -> {
                if (result != AckResult.DONE) {
                    return; // not an answer the agent contract gives to COMMIT; keep resending
                }
                b.committed();
                if (noneIn(t, Phase.COMMITTING)) {
                    // No fsync of its own: if lost, recovery resends an idempotent COMMIT (LogRecord.Completed).
                    out.append(new LogRecord.Completed(t.gtrid()));
                    t.finishCommitted();
                    out.reply(new Reply.Finished(t.gtrid(), Outcome.COMMITTED));
                }
            }
            case ROLLING_BACK -> {
                b.rolledBack();
                finishRollbackIfDone(t, out);
            }
            case COMMITTING_ONE_PHASE -> {
                if (result == AckResult.DONE) {
                    b.committed();
                    t.finishCommitted();
                } else {
                    b.rolledBack();
                    t.finishRolledBack();
                }
                decidedAndFinished(t, out);
            }
            default -> { }
        }
    }

    /**
     * Abort an undecided transaction (rule 4, 6, 8, 10): ROLLBACK to every branch that is not
     * read-only, the NO voter included.
     */
    void abort(GlobalTxn t, Outcome why, long nowMillis, Effects.Builder out) {
        t.abort(why);
        for (BranchProgress b : t.branches()) {
            if (b.phase() != Phase.READ_ONLY) {
                b.rollback(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
        out.reply(new Reply.Decided(t.gtrid(), why));
        finishRollbackIfDone(t, out);
    }

    /**
     * Rule 8: a rollback does not wait for branches whose agent is gone. Presumed abort makes that
     * safe: the agent inquires about every prepared branch when it comes back and gets ROLLBACK,
     * while its unprepared branches died with its session.
     */
    private void finishRollbackIfDone(GlobalTxn t, Effects.Builder out) {
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.ROLLING_BACK && !goneAgents.contains(b.agentId())) {
                return;
            }
        }
        t.finishRolledBack();
        out.reply(new Reply.Finished(t.gtrid(), t.outcome()));
    }

    // ---- time, agents ----

    /** Rule 6: deadlines, then whatever command is due again. */
    void tick(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() == State.ACTIVE && nowMillis >= t.deadlineMillis()) {
            abort(t, Outcome.TIMED_OUT, nowMillis, out);
        } else if (t.state() == State.PREPARING && nowMillis >= t.voteDeadlineMillis()) {
            // A missing vote counts as NO. TIMED_OUT only when the global deadline is what ran out.
            abort(t, nowMillis >= t.deadlineMillis() ? Outcome.TIMED_OUT : Outcome.ROLLED_BACK, nowMillis, out);
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

    /** Rule 7: everything pending for the agent's branches goes again at once, backoff reset. */
    void agentConnected(GlobalTxn t, String agentId, long nowMillis, Effects.Builder out) {
        for (BranchProgress b : t.branches()) {
            if (b.pending() != null && b.agentId().equals(agentId)) {
                b.resetBackoff(config, nowMillis);
                send(t, b, nowMillis, out);
            }
        }
    }

    /** Rule 8. The Coordinator has already marked the agent gone. */
    void agentDisconnected(GlobalTxn t, String agentId, long nowMillis, Effects.Builder out) {
        switch (t.state()) {
            case ACTIVE, PREPARING -> {
                for (BranchProgress b : t.branches()) {
                    // An unprepared branch died with the agent's session, so it can never vote YES.
                    // A prepared (or read-only) one survives the disconnect (XA-FACTS §0).
                    if (b.agentId().equals(agentId) && b.vote() == null) {
                        abort(t, Outcome.ROLLED_BACK, nowMillis, out);
                        return;
                    }
                }
            }
            case COMMITTING_ONE_PHASE -> {
                BranchProgress only = t.branches().iterator().next();
                if (only.agentId().equals(agentId)) {
                    // The agent may have committed and lost the answer, or never got the command;
                    // nothing can tell which, so say so instead of guessing (XA-FACTS E.39).
                    t.finishHazard();
                    decidedAndFinished(t, out);
                }
            }
            case ROLLING_BACK -> finishRollbackIfDone(t, out);
            // COMMITTING keeps waiting: the decision is durable and must be applied; the agent
            // gets its COMMIT again when it reconnects (rule 7) or inquires (rule 9).
            default -> { }
        }
    }

    // ---- inquiries (rule 9) ----

    /** An agent holds this branch prepared and asks for the outcome of a live transaction. */
    void inquiry(GlobalTxn t, String bqual, String agentId, long nowMillis, Effects.Builder out) {
        BranchProgress b = t.branch(bqual);
        switch (t.state()) {
            case COMMITTING -> {
                if (b == null || b.vote() != Vote.YES) {
                    // Not in the durable decision, so not part of the commit: presumed abort.
                    sendOnce(agentId, t.gtrid(), bqual, Action.ROLLBACK, out);
                } else {
                    answerAndReroute(t, b, agentId, Action.COMMIT, nowMillis, out);
                }
            }
            case ROLLING_BACK -> {
                if (b == null) {
                    sendOnce(agentId, t.gtrid(), bqual, Action.ROLLBACK, out);
                } else {
                    answerAndReroute(t, b, agentId, Action.ROLLBACK, nowMillis, out);
                }
            }
            // Undecided, or decided but not durable: the answer would be a guess. It goes out with
            // the decision, to the agent that inquired last.
            case ACTIVE, PREPARING, LOGGING_DECISION -> {
                if (b != null && mayReroute(b, agentId)) {
                    b.routeTo(agentId);
                }
            }
            // A one-phase branch is never prepared, so it cannot be what the agent found.
            default -> { }
        }
    }

    /** The same question about a remembered finished transaction: its outcome, once. */
    void inquiryFinished(GlobalTxn t, String bqual, String agentId, Effects.Builder out) {
        BranchProgress b = t.branch(bqual);
        switch (t.state()) {
            case FINISHED_COMMITTED -> {
                boolean committed = b != null && (b.vote() == Vote.YES || b.phase() == Phase.COMMITTED);
                sendOnce(agentId, t.gtrid(), bqual, committed ? Action.COMMIT : Action.ROLLBACK, out);
            }
            case FINISHED_ROLLED_BACK -> sendOnce(agentId, t.gtrid(), bqual, Action.ROLLBACK, out);
            // FINISHED_HEURISTIC_HAZARD: one phase, never prepared; it is an operator's case.
            default -> { }
        }
    }

    private void answerAndReroute(GlobalTxn t, BranchProgress b, String agentId, Action action,
                                  long nowMillis, Effects.Builder out) {
        if (!mayReroute(b, agentId)) {
            // The registered agent is still connected and may hold the preparing session, which
            // MariaDB requires for phase 2 (XA-FACTS §0, §5.2). Answer the inquirer once, and keep
            // resending to the holder: whichever acknowledges first finishes the branch.
            sendOnce(agentId, t.gtrid(), b.bqual(), action, out);
            return;
        }
        b.routeTo(agentId);
        if (b.pending() == action) {
            b.resetBackoff(config, nowMillis);
            send(t, b, nowMillis, out);
        } else {
            // Already acknowledged: the agent lost track of it; answering again is idempotent.
            sendOnce(agentId, t.gtrid(), b.bqual(), action, out);
        }
    }

    // ---- helpers ----

    /**
     * Phase commands move to an inquiring agent only when the registered one is gone: while it is
     * connected, it may be the only one able to finish the branch (a prepared MariaDB branch is
     * bound to the session that prepared it until that session ends).
     */
    private boolean mayReroute(BranchProgress b, String inquirer) {
        return b.agentId().equals(inquirer) || goneAgents.contains(b.agentId());
    }

    /**
     * Sends the branch's pending command and books the next attempt. An agent known to be gone has
     * no stream to carry it; it gets the command again when it reconnects (rule 7).
     */
    private void send(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        b.attempted(config, nowMillis);
        sendOnce(b.agentId(), t.gtrid(), b.bqual(), b.pending(), out);
    }

    private void sendOnce(String agentId, String gtrid, String bqual, Action action, Effects.Builder out) {
        if (!goneAgents.contains(agentId)) {
            out.send(new Outbound(agentId, gtrid, bqual, action));
        }
    }

    private static void decidedAndFinished(GlobalTxn t, Effects.Builder out) {
        out.reply(new Reply.Decided(t.gtrid(), t.outcome()));
        out.reply(new Reply.Finished(t.gtrid(), t.outcome()));
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
