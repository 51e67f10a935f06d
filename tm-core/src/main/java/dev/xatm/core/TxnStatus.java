package dev.xatm.core;

/** Where a global transaction is, as the coordinator sees it. */
public enum TxnStatus {
    /** Not known: never begun, forgotten after finishing, or lost with an undecided crash. Presumed aborted. */
    UNKNOWN,
    /** Begun; branches may register; no commit asked yet. */
    ACTIVE,
    /** Commit asked; waiting for votes (or for a one-phase commit's answer). */
    PREPARING,
    /** 3PC: CAN_COMMIT sent; waiting for every branch's answer. Nothing is durable yet. */
    ASKING_CAN_COMMIT,
    /**
     * 3PC: every branch answered YES to CAN_COMMIT; the PRE_COMMIT record is (being made) durable and
     * PRE_COMMIT (XA PREPARE) goes to the branches. Undecided, yet a participant may commit on its own.
     */
    PRE_COMMITTING,
    /** COMMIT decided (durable, or about to be); phase 2 runs until every branch acknowledges. */
    COMMITTING,
    /** Rollback decided; phase 2 runs until every branch acknowledges. */
    ROLLING_BACK,
    FINISHED_COMMITTED,
    FINISHED_ROLLED_BACK,
    /** A one-phase commit whose branch never answered: nobody knows the outcome. Kept until an operator forgets it. */
    FINISHED_HEURISTIC_HAZARD,
    /**
     * Phase 2 is over, but a database reported a heuristic outcome (it decided a branch on its own):
     * the branches may disagree. Kept, and listed as in doubt, until an operator forgets it.
     */
    FINISHED_HEURISTIC;

    public boolean isFinished() {
        return this == FINISHED_COMMITTED || this == FINISHED_ROLLED_BACK || this == FINISHED_HEURISTIC_HAZARD
                || this == FINISHED_HEURISTIC;
    }

    /** Finished in a way only an operator can close: held (never forgotten by the FIFO) until a Forget. */
    public boolean needsOperator() {
        return this == FINISHED_HEURISTIC_HAZARD || this == FINISHED_HEURISTIC;
    }
}
