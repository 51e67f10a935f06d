package dev.xatm.core.view;

import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;

/**
 * One global transaction in a list. Times are on the driver's monotonic clock; -1 means "not yet" (or,
 * for a transaction restored from the log, "before this coordinator started").
 *
 * @param gtrid           the global transaction id
 * @param name            the name given at Begin ("" if none)
 * @param protocol        "2PC" or "3PC"
 * @param phase           the protocol step it is in: ACTIVE, PREPARE, COMMIT, ROLLBACK (2PC); CAN_COMMIT,
 *                        PRE_COMMIT, DO_COMMIT, ABORT (3PC); ONE_PHASE; FINISHED
 * @param status          where it is now
 * @param outcome         the decided outcome, or null while undecided
 * @param begunMillis     when it began (-1 if restored)
 * @param decidedMillis   when its outcome was fixed (for a restored one: when it was restored)
 * @param finishedMillis  when phase 2 ended
 * @param deadlineMillis  when it times out if still undecided (Long.MAX_VALUE: no deadline any more)
 * @param branchCount     its branches
 * @param restored        rebuilt from the log at start-up
 * @param acknowledgedBy  the operator who forgot its heuristic outcome, or null
 */
public record TxnSummary(String gtrid, String name, String protocol, String phase, TxnStatus status, Outcome outcome,
                         long begunMillis, long decidedMillis, long finishedMillis, long deadlineMillis,
                         int branchCount, boolean restored, String acknowledgedBy) {}
