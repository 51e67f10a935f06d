package dev.xatm.core;

/** What the coordinator asks an agent to do with one branch. */
public enum Action {
    PREPARE,
    COMMIT,
    ROLLBACK,
    /** XA COMMIT ... ONE PHASE: the single-branch optimisation, no decision record. */
    COMMIT_ONE_PHASE,
    /** 3PC phase 1: a question (is the branch ended cleanly and healthy?); nothing durable changes. */
    CAN_COMMIT,
    /** 3PC phase 2: XA PREPARE; the answer is a vote (YES = prepared). Sent after the PRE_COMMIT record is durable. */
    PRE_COMMIT
}
