package dev.xatm.core.view;

/**
 * Why a transaction needs an operator's attention.
 *
 * @param kind    the rule that matched
 * @param bqual   the branch concerned, or null for the whole transaction
 * @param message what is wrong, for a human
 */
public record InDoubtReason(Kind kind, String bqual, String message) {

    public enum Kind {
        /** The outcome is decided, but not yet applied to every branch, for longer than the threshold. */
        OUTCOME_NOT_APPLIED,
        /** A branch still waits for a command, and the agent that holds it is gone. */
        AGENT_GONE,
        /** A database reported a heuristic outcome; listed until an operator forgets it. */
        HEURISTIC,
        /** A one-phase commit whose answer was lost: nobody knows the outcome. */
        HEURISTIC_HAZARD
    }
}
