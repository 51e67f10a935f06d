package dev.xatm.core;

/** An answer to a client request, routed by the driver to whoever waits for it. */
public sealed interface Reply {

    String gtrid();

    /** Begin accepted; the transaction rolls back at {@code deadlineMillis} unless committed before. */
    record Begun(String gtrid, long deadlineMillis) implements Reply {}

    /** The branch is registered (or was already, with the same attributes). */
    record Registered(String gtrid, String bqual) implements Reply {}

    /**
     * The outcome is decided: for COMMITTED the decision is durable (or needs no record: one phase).
     * Answers every waiting commit and rollback request of the gtrid that does not wait for completion.
     */
    record Decided(String gtrid, Outcome outcome) implements Reply {}

    /**
     * The cheap 3PC (Event.CanCommitHeld): the PRE_COMMIT record is durable and the requesting agent
     * may now XA PREPARE its branches and answer with Event.PreCommitHeld. Carries the participant
     * timeout that starts once a branch is prepared: no decision within it and the branch commits on
     * its own, exactly as after a PRE_COMMIT command.
     */
    record PreCommitted(String gtrid, long participantPreCommitMillis) implements Reply {}

    /** Every branch acknowledged phase 2; the transaction is finished. */
    record Finished(String gtrid, Outcome outcome) implements Reply {}

    /**
     * An operator's request ({@link RequestKind#FORCE_COMMIT}, {@link RequestKind#FORCE_ROLLBACK},
     * {@link RequestKind#FORGET}) was carried out, or was already true; {@code status} is where the
     * transaction is now and {@code message} says what was done.
     */
    record Resolved(String gtrid, RequestKind request, TxnStatus status, String message) implements Reply {}

    /** The request was refused and changed nothing. */
    record Rejected(String gtrid, RequestKind request, ErrorCode code, String message) implements Reply {}
}
