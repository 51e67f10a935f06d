package dev.xatm.core;

/** An agent's report that a phase-2 action is finished for one branch. */
public enum AckResult {
    /** The action took effect, now or on an earlier attempt. */
    DONE,
    /** Only for {@link Action#COMMIT_ONE_PHASE}: the database rolled the branch back instead. */
    ROLLED_BACK_INSTEAD,
    /**
     * The database had already committed the branch on its own (XA_HEURCOM). Nothing more can be done
     * by resending; the coordinator records it and keeps the transaction for an operator.
     */
    HEURISTIC_COMMIT,
    /** The database had already rolled the branch back on its own (XA_HEURRB). */
    HEURISTIC_ROLLBACK,
    /** The database committed part of the branch and rolled back the rest (XA_HEURMIX). */
    HEURISTIC_MIXED,
    /**
     * Nobody knows what became of the branch: the database said so (XA_HEURHAZ), or the branch, known to
     * be prepared, vanished from its database without our commit (a manual rollback, say).
     */
    HEURISTIC_HAZARD;

    /** True for the outcomes a database decided on its own (or lost), which only an operator can reconcile. */
    public boolean isHeuristic() {
        return this == HEURISTIC_COMMIT || this == HEURISTIC_ROLLBACK || this == HEURISTIC_MIXED || this == HEURISTIC_HAZARD;
    }
}
