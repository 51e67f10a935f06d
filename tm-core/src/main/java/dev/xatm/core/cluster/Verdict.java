package dev.xatm.core.cluster;

/** What the shared store says about a prepared branch of a gtrid (rule R4, {@link StoreRules#verdict}). */
public enum Verdict {
    /** A COMMIT row: commit, now and forever. */
    COMMIT,
    /** No COMMIT can ever exist (a rollback row, or no row while the owner can no longer insert one). */
    ROLLBACK,
    /** The owner may still decide (or drives a 3PC PRE_COMMIT): only it can answer. */
    ASK_OWNER
}
