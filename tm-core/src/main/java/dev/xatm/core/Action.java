package dev.xatm.core;

/** What the coordinator asks an agent to do with one branch. */
public enum Action {
    PREPARE,
    COMMIT,
    ROLLBACK,
    /** XA COMMIT ... ONE PHASE: the single-branch optimisation, no decision record (SPEC §2). */
    COMMIT_ONE_PHASE
}
