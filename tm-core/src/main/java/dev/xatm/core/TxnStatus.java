package dev.xatm.core;

/** Where a global transaction is, as the coordinator sees it. */
public enum TxnStatus {
    /** Not known: never begun, forgotten after finishing, or lost with an undecided crash. Presumed aborted. */
    UNKNOWN,
    /** Begun; branches may register; no commit asked yet. */
    ACTIVE,
    /** Commit asked; waiting for votes (or for a one-phase commit's answer). */
    PREPARING,
    /** COMMIT decided (durable, or about to be); phase 2 runs until every branch acknowledges. */
    COMMITTING,
    /** Rollback decided; phase 2 runs until every branch acknowledges. */
    ROLLING_BACK,
    FINISHED_COMMITTED,
    FINISHED_ROLLED_BACK,
    FINISHED_HEURISTIC_HAZARD;

    public boolean isFinished() {
        return this == FINISHED_COMMITTED || this == FINISHED_ROLLED_BACK || this == FINISHED_HEURISTIC_HAZARD;
    }
}
