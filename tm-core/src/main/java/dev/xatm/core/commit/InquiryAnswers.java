package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Outcome;
import dev.xatm.core.Vote;
import dev.xatm.core.commit.BranchProgress.Phase;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.Set;

/**
 * Rule 9 for one transaction: an agent that holds a branch prepared (found by XA RECOVER, or after a
 * lost command) asks for its outcome. A durable outcome is answered at once; an undecided one only
 * with the decision, to the agent that inquired last. Phase commands move to the inquirer only while
 * the branch's registered agent is gone (a prepared MariaDB branch is bound to the session that
 * prepared it). Never answers for a gtrid it does not hold: the presumed abort of an unknown gtrid is
 * the {@link Coordinator}'s. Part of the coordinator; same thread as its {@code step}, not thread-safe.
 */
final class InquiryAnswers {
    private final CoordinatorConfig config;
    /** Agents whose stream ended and has not come back; shared with the Coordinator, read-only here. */
    private final Set<String> goneAgents;
    private final TwoPhase twoPhase;

    InquiryAnswers(CoordinatorConfig config, Set<String> goneAgents, TwoPhase twoPhase) {
        this.config = config;
        this.goneAgents = goneAgents;
        this.twoPhase = twoPhase;
    }

    /** An agent holds this branch prepared and asks for the outcome of a live transaction. */
    void inquiry(GlobalTxn t, String bqual, String agentId, long nowMillis, Effects.Builder out) {
        BranchProgress b = t.branch(bqual);
        t.note(nowMillis, Kind.INQUIRY, bqual, "agent " + agentId + " holds it prepared; " + switch (t.state()) {
            case COMMITTING -> b == null || b.vote() != Vote.YES ? "answered ROLLBACK" : "answered COMMIT";
            case ROLLING_BACK -> "answered ROLLBACK";
            case ACTIVE, PREPARING, LOGGING_DECISION, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> "answer follows the decision";
            default -> "not answered";
        });
        switch (t.state()) {
            case COMMITTING -> {
                if (b == null || b.vote() != Vote.YES) {
                    // Not in the durable decision, so not part of the commit: presumed abort.
                    answerInquirer(b, agentId);
                    twoPhase.sendOnce(agentId, t.gtrid(), bqual, Action.ROLLBACK, out);
                } else {
                    answerAndReroute(t, b, agentId, Action.COMMIT, nowMillis, out);
                }
            }
            case ROLLING_BACK -> {
                if (b == null) {
                    twoPhase.sendOnce(agentId, t.gtrid(), bqual, Action.ROLLBACK, out);
                } else {
                    answerAndReroute(t, b, agentId, Action.ROLLBACK, nowMillis, out);
                }
            }
            // Undecided, or decided but not durable: the answer would be a guess. It goes out with
            // the decision, to the agent that inquired last.
            case ACTIVE, PREPARING, LOGGING_DECISION, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                if (b != null && mayReroute(b, agentId)) {
                    b.routeTo(agentId);
                }
            }
            // A one-phase branch is never prepared, so it cannot be what the agent found.
            default -> { }
        }
    }

    /**
     * A ROLLBACK acknowledged for a branch of a finished transaction that still waited for it: the
     * rollback finished without it because its agent was gone (rule 8), and the agent, back, got the
     * ROLLBACK in answer to its inquiry. Only the branch's state changes; the outcome was never in question.
     */
    void lateAck(GlobalTxn t, String bqual, Action action, long nowMillis) {
        BranchProgress b = t.branch(bqual);
        if (b == null || action != Action.ROLLBACK || b.phase() != Phase.ROLLING_BACK) {
            return;
        }
        b.rolledBack();
        t.note(nowMillis, Kind.ACK, bqual, "ROLLBACK done after the end, by the agent that came back");
    }

    /** The same question about a remembered finished transaction: its outcome, once. */
    void inquiryFinished(GlobalTxn t, String bqual, String agentId, long nowMillis, Effects.Builder out) {
        BranchProgress b = t.branch(bqual);
        Action answer = null;
        switch (t.state()) {
            case FINISHED_COMMITTED -> {
                boolean committed = b != null && (b.vote() == Vote.YES || b.phase() == Phase.COMMITTED);
                answer = committed ? Action.COMMIT : Action.ROLLBACK;
            }
            case FINISHED_ROLLED_BACK -> answer = Action.ROLLBACK;
            // The decision stands whatever a database did on its own: a branch prepared still gets it.
            case FINISHED_HEURISTIC -> {
                if (t.outcome() == Outcome.COMMITTED) {
                    answer = b != null && b.vote() == Vote.YES ? Action.COMMIT : Action.ROLLBACK;
                } else if (t.decidedRollback()) {
                    answer = Action.ROLLBACK;
                }
            }
            // FINISHED_HEURISTIC_HAZARD: one phase, never prepared; it is an operator's case.
            default -> { }
        }
        t.note(nowMillis, Kind.INQUIRY, bqual, "agent " + agentId + " holds it prepared after the end; answered "
                + (answer == null ? "nothing (operator's case)" : answer));
        if (answer != null) {
            answerInquirer(b, agentId);
            twoPhase.sendOnce(agentId, t.gtrid(), bqual, answer, out);
        }
    }

    private void answerAndReroute(GlobalTxn t, BranchProgress b, String agentId, Action action,
                                  long nowMillis, Effects.Builder out) {
        if (!mayReroute(b, agentId)) {
            // The registered agent is still connected and may hold the preparing session, which
            // MariaDB requires for phase 2. Answer the inquirer once, and keep resending to the
            // holder, which finishes the branch (the inquirer may acknowledge only once the holder is
            // away: Speakers).
            answerInquirer(b, agentId);
            twoPhase.sendOnce(agentId, t.gtrid(), b.bqual(), action, out);
            return;
        }
        b.routeTo(agentId);
        if (b.pending() == action) {
            b.resetBackoff(config, nowMillis);
            twoPhase.send(t, b, nowMillis, out);
        } else {
            // Already acknowledged: the agent lost track of it; answering again is idempotent.
            answerInquirer(b, agentId);
            twoPhase.sendOnce(agentId, t.gtrid(), b.bqual(), action, out);
        }
    }

    /** Remembers who was told the branch's outcome by an inquiry, so its acknowledgement may count (Speakers). */
    private static void answerInquirer(BranchProgress b, String agentId) {
        if (b != null) {
            b.answeredInquirer(agentId);
        }
    }

    /**
     * Phase commands move to an inquiring agent only when the registered one is gone: while it is
     * connected, it may be the only one able to finish the branch (a prepared MariaDB branch is
     * bound to the session that prepared it until that session ends).
     */
    private boolean mayReroute(BranchProgress b, String inquirer) {
        return b.agentId().equals(inquirer) || goneAgents.contains(b.agentId());
    }
}
