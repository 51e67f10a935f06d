package dev.xatm.core;

/** The client requests the coordinator answers; used to route replies back to the waiting caller. */
public enum RequestKind {
    BEGIN,
    REGISTER_BRANCH,
    COMMIT,
    ROLLBACK,
    VOTE,
    ACK,
    INQUIRY
}
