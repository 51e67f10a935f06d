package dev.xatm.client;

/**
 * Which atomic commit protocol the coordinator runs for a global transaction. The client always
 * names one on Begin, so {@code tm.server.default-protocol} never changes what an application asked for.
 */
public enum CommitProtocol {
    /** Two-phase commit, presumed abort. The default. */
    TWO_PHASE,
    /**
     * Three-phase commit: CAN_COMMIT (a question, nothing durable), PRE_COMMIT (XA PREPARE),
     * COMMIT. Costs one more round trip to every branch than 2PC. Participants time out on their own:
     * a branch that answered CAN_COMMIT and hears nothing more rolls back, a prepared branch that hears
     * no decision commits. A network partition after PRE_COMMIT can therefore commit a branch the
     * coordinator rolls back; the coordinator records that as a heuristic outcome.
     */
    THREE_PHASE;

    /** The value of the metrics' {@code protocol} tag: "2PC" or "3PC". */
    public String tag() {
        return this == TWO_PHASE ? "2PC" : "3PC";
    }
}
