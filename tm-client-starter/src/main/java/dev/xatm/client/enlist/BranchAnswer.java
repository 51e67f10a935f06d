package dev.xatm.client.enlist;

/**
 * What to tell the coordinator. {@link #NONE}: nothing now (parked, or retry on the next resend).
 * {@link #DECIDED_COMMIT} / {@link #DECIDED_ROLLBACK}: the participant decided the branch on its
 * own (3PC timer); whatever the command, the answer is that report.
 */
public enum BranchAnswer {
    VOTE_YES, VOTE_NO, VOTE_READ_ONLY, DONE, ROLLED_BACK_INSTEAD, NONE, DECIDED_COMMIT, DECIDED_ROLLBACK,
    /**
     * Phase 2 is over, but the database decided the branch on its own (or lost it): reported to the
     * coordinator as the heuristic acknowledgement of the same name, never as {@link #DONE}.
     */
    HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD;

    public boolean isHeuristic() {
        return this == HEURISTIC_COMMIT || this == HEURISTIC_ROLLBACK || this == HEURISTIC_MIXED || this == HEURISTIC_HAZARD;
    }

    /** Whether nothing more can be done for the branch's phase 2: done, or ended by a heuristic. */
    public boolean endsPhaseTwo() {
        return this == DONE || isHeuristic();
    }
}
