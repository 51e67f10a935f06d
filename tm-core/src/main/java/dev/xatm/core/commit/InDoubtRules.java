package dev.xatm.core.commit;

import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.InDoubtReason.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * When a transaction needs an operator, as a pure function of one transaction,
 * the time and the agents known to be gone. Nothing here changes what the protocol does: an in-doubt
 * transaction is still driven (phase 2 never gives up); the list only tells a human where to look.
 */
final class InDoubtRules {
    private InDoubtRules() {}

    /**
     * Every reason {@code t} is in doubt at {@code nowMillis}; empty if it is not.
     * <ol>
     *   <li>HEURISTIC / HEURISTIC_HAZARD: held for an operator and not yet forgotten;</li>
     *   <li>OUTCOME_NOT_APPLIED: decided (or a one-phase commit sent) {@code thresholdMillis} ago or
     *       longer, and some branch has still not acknowledged;</li>
     *   <li>AGENT_GONE: decided, and a branch still waiting for its command is held by an agent
     *       whose stream ended: nothing moves until an agent holding it comes back.</li>
     * </ol>
     */
    static List<InDoubtReason> reasons(GlobalTxn t, long nowMillis, long thresholdMillis, Set<String> goneAgents) {
        List<InDoubtReason> out = new ArrayList<>(2);
        TxnStatus status = t.state().status;
        if (status.needsOperator()) {
            if (t.acknowledgedBy() == null) {
                if (status == TxnStatus.FINISHED_HEURISTIC_HAZARD) {
                    out.add(new InDoubtReason(Kind.HEURISTIC_HAZARD, null, "the one-phase commit's answer was lost with its"
                            + " agent: check at the database whether the branch committed, then forget it"));
                } else {
                    for (BranchProgress b : t.branches()) {
                        if (b.heuristic() != null) {
                            out.add(new InDoubtReason(Kind.HEURISTIC, b.bqual(), b.branch().resourceId() + " reported "
                                    + b.heuristic() + " while the decision was " + t.outcome()
                                    + ": reconcile it at the database, then forget it"));
                        }
                    }
                    if (out.isEmpty()) {
                        out.add(new InDoubtReason(Kind.HEURISTIC, null, "a heuristic outcome was reported"));
                    }
                }
            }
            return out;
        }
        if (t.isFinished() || !decided(t)) {
            return out;
        }
        long since = t.phaseTwoSinceMillis();
        List<String> pending = new ArrayList<>();
        for (BranchProgress b : t.branches()) {
            if (b.pending() == null) {
                continue;
            }
            pending.add(b.bqual());
            if (goneAgents.contains(b.agentId())) {
                out.add(new InDoubtReason(Kind.AGENT_GONE, b.bqual(), b.pending() + " for " + b.branch().resourceId()
                        + " waits for agent " + b.agentId() + ", which is gone"));
            }
        }
        if (!pending.isEmpty() && since >= 0 && nowMillis - since >= thresholdMillis) {
            out.add(0, new InDoubtReason(Kind.OUTCOME_NOT_APPLIED, null, "outcome " + (t.outcome() != null ? t.outcome()
                    : t.state() == GlobalTxn.State.PRE_COMMIT ? "(undecided: PRE_COMMIT resent after a restart, waiting for the answers)"
                    : "(one-phase commit)") + " not yet applied to " + String.join(", ", pending) + " after " + (nowMillis - since) + " ms"));
        }
        return out;
    }

    /** Past the point where the outcome is fixed (or, one phase, out of the coordinator's hands). */
    private static boolean decided(GlobalTxn t) {
        return switch (t.state()) {
            case LOGGING_DECISION, COMMITTING, ROLLING_BACK, COMMITTING_ONE_PHASE -> true;
            // 3PC after a restart: undecided, but out of the coordinator's hands until the branches answer.
            case PRE_COMMIT -> t.restored();
            default -> false;
        };
    }
}
