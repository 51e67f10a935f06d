package dev.xatm.core.participant;

import dev.xatm.core.Action;

/**
 * A three-phase commit participant decided its branch on its own ({@link Action#COMMIT} or
 * {@link Action#ROLLBACK}) when its timer ran out. The driver journals it before running the XA call,
 * and hands the journal back to {@link Participant#restore}, so the decision is reported even after a
 * restart and never turned around by a late command.
 */
public record OwnDecision(BranchKey key, String resourceId, Action decision) {
    public OwnDecision {
        if (decision != Action.COMMIT && decision != Action.ROLLBACK) {
            throw new IllegalArgumentException("a participant decides COMMIT or ROLLBACK, not " + decision);
        }
    }
}
