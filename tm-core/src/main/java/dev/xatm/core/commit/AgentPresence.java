package dev.xatm.core.commit;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Outcome;
import dev.xatm.core.commit.GlobalTxn.State;
import dev.xatm.core.view.HistoryEntry.Kind;

/**
 * Rules 7 and 8 for one transaction: what an agent's stream opening or ending does to it. A returning
 * agent gets everything pending for its branches at once; a lost agent's unprepared branch died with
 * its sessions, so an undecided transaction that needs it aborts, while a decided one waits for the
 * agent to come back. Part of the {@link Coordinator}, which marks the agent connected or gone first;
 * same thread as its {@code step}, not thread-safe.
 */
final class AgentPresence {
    private final CoordinatorConfig config;
    private final TwoPhase twoPhase;

    AgentPresence(CoordinatorConfig config, TwoPhase twoPhase) {
        this.config = config;
        this.twoPhase = twoPhase;
    }

    /** Rule 7: everything pending for the agent's branches goes again at once, backoff reset. */
    void agentConnected(GlobalTxn t, String agentId, long nowMillis, Effects.Builder out) {
        for (BranchProgress b : t.branches()) {
            if (b.pending() != null && b.agentId().equals(agentId)) {
                b.resetBackoff(config, nowMillis);
                t.note(nowMillis, Kind.AGENT_BACK, b.bqual(), "agent " + agentId + " connected; " + b.pending() + " resent");
                twoPhase.send(t, b, nowMillis, out);
            }
        }
    }

    /** Rule 8. The Coordinator has already marked the agent gone. */
    void agentDisconnected(GlobalTxn t, String agentId, long nowMillis, Effects.Builder out) {
        if (t.state() == State.PRE_COMMIT && t.restored()) {
            // 3PC after a restart: participants may have committed on their own; only their answers decide.
            noteGone(t, agentId, nowMillis);
            return;
        }
        switch (t.state()) {
            // 3PC: before a PRE_COMMIT YES nothing is prepared, so a lost agent's branch is lost too.
            case ACTIVE, PREPARING, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                for (BranchProgress b : t.branches()) {
                    // An unprepared branch died with the agent's session, so it can never vote YES.
                    // A prepared (or read-only) one survives the disconnect.
                    if (b.agentId().equals(agentId) && b.vote() == null) {
                        t.note(nowMillis, Kind.AGENT_GONE, b.bqual(), "agent " + agentId + " gone before the branch voted");
                        twoPhase.abort(t, Outcome.ROLLED_BACK, "agent " + agentId + " of unprepared branch " + b.bqual() + " gone",
                                nowMillis, out);
                        return;
                    }
                }
            }
            case COMMITTING_ONE_PHASE -> {
                BranchProgress only = t.branches().iterator().next();
                if (only.agentId().equals(agentId)) {
                    // The agent may have committed and lost the answer, or never got the command;
                    // nothing can tell which, so say so instead of guessing.
                    t.note(nowMillis, Kind.AGENT_GONE, only.bqual(), "agent " + agentId + " gone during the one-phase commit");
                    t.finishHazard(nowMillis);
                    t.note(nowMillis, Kind.FINISHED, null, "HEURISTIC_HAZARD: the outcome at the database is unknown; needs an operator");
                    TwoPhase.decidedAndFinished(t, nowMillis, out);
                }
            }
            case ROLLING_BACK -> {
                noteGone(t, agentId, nowMillis);
                twoPhase.finishRollbackIfDone(t, nowMillis, out);
            }
            // COMMITTING keeps waiting: the decision is durable and must be applied; the agent
            // gets its COMMIT again when it reconnects (rule 7) or inquires (rule 9).
            case COMMITTING, LOGGING_DECISION -> noteGone(t, agentId, nowMillis);
            default -> { }
        }
    }

    private static void noteGone(GlobalTxn t, String agentId, long nowMillis) {
        for (BranchProgress b : t.branches()) {
            if (b.pending() != null && b.agentId().equals(agentId)) {
                t.note(nowMillis, Kind.AGENT_GONE, b.bqual(), "agent " + agentId + " gone; " + b.pending() + " waits for it");
            }
        }
    }
}
