package dev.xatm.client.enlist;

import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;

import javax.transaction.xa.XAException;

/**
 * The driver's side of the participant core's contract: what a failed XA call answered, as the
 * {@link XaResult} the core decides from. It only names the answer (with the drivers' quirks undone:
 * {@link XaErrorClassifier#effectiveCode}); what the answer means for the branch is the core's.
 *
 * <ul>
 *   <li>XA_RB*: {@link XaResult#ROLLED_BACK}, except to a two-phase COMMIT, where only the database's
 *       own decision can have rolled back a branch that voted YES: {@link XaResult#HEURISTIC_ROLLBACK}.</li>
 *   <li>XAER_NOTA: {@link XaResult#NOT_FOUND}. A caller that runs by xid on another connection must
 *       first check that XA RECOVER no longer lists the xid (MariaDB answers NOTA for a branch still
 *       bound to its preparing session) and report {@link XaResult#UNAVAILABLE} if it does.</li>
 *   <li>XA_HEUR*: the matching heuristic.</li>
 *   <li>An answer lost with the connection ({@link XaErrorClassifier#outcomeUnknown}: XAER_RMFAIL,
 *       pgjdbc's XAER_RMERR after its backend died, MariaDB's code 0, SQLSTATE 08*):
 *       {@link XaResult#UNAVAILABLE}.</li>
 *   <li>Anything else: {@link XaResult#FAILED}.</li>
 * </ul>
 *
 * Stateless.
 */
public final class XaResults {
    private XaResults() {
    }

    public static XaResult of(XAException e, XaOp op) {
        int code = XaErrorClassifier.effectiveCode(e);
        if (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) {
            return op == XaOp.COMMIT ? XaResult.HEURISTIC_ROLLBACK : XaResult.ROLLED_BACK;
        }
        return switch (code) {
            case XAException.XAER_NOTA -> XaResult.NOT_FOUND;
            case XAException.XA_HEURCOM -> XaResult.HEURISTIC_COMMIT;
            case XAException.XA_HEURRB -> XaResult.HEURISTIC_ROLLBACK;
            case XAException.XA_HEURMIX -> XaResult.HEURISTIC_MIXED;
            case XAException.XA_HEURHAZ -> XaResult.HEURISTIC_HAZARD;
            default -> XaErrorClassifier.outcomeUnknown(e) ? XaResult.UNAVAILABLE : XaResult.FAILED;
        };
    }

    /**
     * Whether the heuristic {@code result} is what {@code op} asked for (XA_HEURCOM to a commit, XA_HEURRB
     * to a rollback): the database may then forget the branch at once, it has nothing to reconcile.
     */
    public static boolean matchesDecision(XaResult result, XaOp op) {
        return switch (op) {
            case COMMIT, COMMIT_ONE_PHASE -> result == XaResult.HEURISTIC_COMMIT;
            case ROLLBACK -> result == XaResult.HEURISTIC_ROLLBACK;
            default -> false;
        };
    }
}
