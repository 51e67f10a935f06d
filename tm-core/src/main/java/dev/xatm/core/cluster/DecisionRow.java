package dev.xatm.core.cluster;

/**
 * A durable decision row of the shared store, as the driver read it: at most one per gtrid (the
 * primary key), inserted only by the gtrid's owner incarnation and fenced on its epoch. Immutable.
 *
 * @param owner the incarnation that drives its phase 2 now (the inserter, or the adopter after a takeover)
 */
public record DecisionRow(String gtrid, Outcome outcome, NodeEpoch owner) {

    /** What a row can say. */
    public enum Outcome {
        /** The COMMIT decision. */
        COMMIT,
        /** A 3PC PRE_COMMIT record without a decision yet: its owner (or adopter) still drives it. */
        PRE_COMMIT,
        /** A logged rollback: a 3PC abort after PRE_COMMIT, or a rollback with heuristic branches. */
        ROLLED_BACK
    }
}
