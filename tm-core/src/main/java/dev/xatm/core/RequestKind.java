package dev.xatm.core;

/** The client requests the coordinator answers; used to route replies back to the waiting caller. */
public enum RequestKind {
    BEGIN,
    REGISTER_BRANCH,
    COMMIT,
    ROLLBACK,
    VOTE,
    ACK,
    INQUIRY,
    /** An operator forces phase 2 of a durably committed transaction to be driven again, now. */
    FORCE_COMMIT,
    /** An operator rolls back an undecided (or rolling-back) transaction. */
    FORCE_ROLLBACK,
    /** An operator acknowledges a heuristic outcome, so the transaction stops being listed as in doubt. */
    FORGET
}
