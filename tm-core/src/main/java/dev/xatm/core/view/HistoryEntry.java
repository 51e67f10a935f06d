package dev.xatm.core.view;

/**
 * One thing that happened to a global transaction, as the coordinator saw it. Times are on the
 * driver's monotonic clock, to the resolution of its ticks (the core has no clock of its own); the
 * admin layer converts them for display.
 *
 * @param atMillis when, on the driver's monotonic clock
 * @param kind     what happened
 * @param bqual    the branch it concerns, or null for the whole transaction
 * @param detail   a short human-readable explanation (never secrets: only ids, votes, outcomes, operator names)
 */
public record HistoryEntry(long atMillis, Kind kind, String bqual, String detail) {

    public enum Kind {
        BEGUN,
        BRANCH_REGISTERED,
        COMMIT_REQUESTED,
        ROLLBACK_REQUESTED,
        PREPARE_SENT,
        /** 3PC: CAN_COMMIT went to every branch. */
        CAN_COMMIT_SENT,
        /** 3PC: the PRE_COMMIT record was appended; no PRE_COMMIT goes out before it is durable. */
        PRE_COMMIT_LOGGED,
        /** 3PC: the PRE_COMMIT record is durable and PRE_COMMIT (XA PREPARE) went to every willing branch. */
        PRE_COMMIT_SENT,
        /**
         * 3PC: a participant decided its branch on its own when its timer ran out (committed after
         * PRE_COMMIT, or rolled back after CAN_COMMIT), and reported it.
         */
        PARTICIPANT_DECIDED,
        ONE_PHASE_COMMIT_SENT,
        VOTE,
        /** The COMMIT decision record was appended; no COMMIT goes out before it is durable. */
        DECISION_LOGGED,
        DECISION_DURABLE,
        /** Rollback decided (a NO vote, a deadline, a lost agent, a client's or an operator's request). */
        ABORTED,
        /** 3PC: the Aborted record of a rollback after the PRE_COMMIT record is durable; the rollback is announced. */
        ABORT_DURABLE,
        ACK,
        /** A database reported a heuristic outcome for a branch. */
        HEURISTIC,
        AGENT_GONE,
        AGENT_BACK,
        INQUIRY,
        FINISHED,
        /** Rebuilt from the durable log at start-up; earlier history was in the previous process's memory. */
        RESTORED,
        FORCED_COMMIT,
        FORCED_ROLLBACK,
        FORGOTTEN,
        /** An operator's forced resolution was refused, and why. */
        FORCE_REFUSED,
        /** A vote or acknowledgement from an agent that does not hold the branch was refused. */
        FOREIGN_REFUSED
    }
}
