package dev.xatm.core;

/** An agent's report that a phase-2 action is finished for one branch. */
public enum AckResult {
    /** The action took effect, now or on an earlier attempt. */
    DONE,
    /** Only for {@link Action#COMMIT_ONE_PHASE}: the database rolled the branch back instead. */
    ROLLED_BACK_INSTEAD
}
