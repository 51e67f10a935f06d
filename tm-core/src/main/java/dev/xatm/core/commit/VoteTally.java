package dev.xatm.core.commit;

import dev.xatm.core.Vote;

import java.util.Collection;

/**
 * Counts the phase-1 votes of one global transaction. A pure function, kept apart from the state
 * machine so a property test can hold it against a naive oracle (STYLE "pure helpers with oracles").
 */
final class VoteTally {

    /** What the votes received so far decide. */
    enum Result {
        /** No NO yet, but some branch has not voted. */
        PENDING,
        /** Every branch voted YES or READ_ONLY. */
        COMMIT,
        /** Some branch voted NO: one NO decides the whole transaction. */
        ABORT
    }

    private VoteTally() {}

    /**
     * @param branchCount how many branches must vote
     * @param received    the votes received, at most one per branch
     */
    static Result outcome(int branchCount, Collection<Vote> received) {
        if (received.size() > branchCount) {
            // A caller bug, not an operating error: duplicates are filtered before they get here.
            throw new IllegalArgumentException("received " + received.size() + " votes for " + branchCount + " branches");
        }
        for (Vote v : received) {
            if (v == Vote.NO) {
                // Abort early, without waiting for the rest: their PREPAREs are answered by ROLLBACK.
                return Result.ABORT;
            }
        }
        return received.size() == branchCount ? Result.COMMIT : Result.PENDING;
    }

    /**
     * A commit needs a decision record only if some branch voted YES: with nothing prepared, no
     * branch has anything left to commit after a crash (read-only voters leave phase 2).
     */
    static boolean needsDecisionRecord(Collection<Vote> received) {
        return received.contains(Vote.YES);
    }
}
