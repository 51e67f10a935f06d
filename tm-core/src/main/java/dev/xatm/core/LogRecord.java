package dev.xatm.core;

import java.util.List;

/**
 * What the coordinator writes to its durable log. Presumed abort: nothing is written for a
 * transaction until its COMMIT decision, and nothing at all for one-phase or rolled-back ones.
 * After a crash, a gtrid without a {@link Decision} is aborted.
 */
public sealed interface LogRecord {

    String gtrid();

    /** Must be on stable storage before anything acts on it; the driver then feeds {@link Event.DecisionDurable}. */
    default boolean mustBeDurable() {
        return false;
    }

    /**
     * Keeps its transaction open in the log (a checkpoint rewrites it, a restart restores it) until a
     * later record of the same gtrid that does not; the latest such record of a gtrid is all a
     * restart needs. Decision, PreCommit and Heuristics do; Completed and Aborted end it.
     */
    default boolean keepsOpen() {
        return false;
    }

    /**
     * The COMMIT decision and everything phase 2 needs to finish it after a restart: which branches
     * voted YES and which agent holds each. Must be durable (fsynced) before the first COMMIT is sent.
     */
    record Decision(String gtrid, String name, List<Branch> branches) implements LogRecord {
        public Decision {
            Ids.requireGtrid(gtrid);
            branches = List.copyOf(branches);
        }

        @Override
        public boolean mustBeDurable() {
            return true;
        }

        @Override
        public boolean keepsOpen() {
            return true;
        }
    }

    /**
     * 3PC: every branch answered YES to CAN_COMMIT, and PRE_COMMIT is about to go to {@code branches}.
     * Must be durable before the first PRE_COMMIT leaves: from then on a participant may commit on its
     * own, so a restarted coordinator must know to ask the branches (not presume abort).
     */
    record PreCommit(String gtrid, String name, List<Branch> branches) implements LogRecord {
        public PreCommit {
            Ids.requireGtrid(gtrid);
            branches = List.copyOf(branches);
        }

        @Override
        public boolean mustBeDurable() {
            return true;
        }

        @Override
        public boolean keepsOpen() {
            return true;
        }
    }

    /**
     * A database decided branches of a rolled-back transaction on its own (XA_HEURCOM, HEURRB or
     * HEURMIX in answer to ROLLBACK). Presumed abort logs nothing else for a rollback, so without this
     * a restart would forget what an operator still has to reconcile. It lists every heuristic branch
     * so far (a later one replaces it) and keeps the transaction held, across restarts, until an
     * operator forgets it (Completed). Written with the next group commit, not waited for: the server
     * also logs a WARN line for every heuristic report. (A committed transaction needs no such record:
     * its Decision stays open until it is forgotten, and the database reports its heuristic again.)
     *
     * @param decided ROLLED_BACK or TIMED_OUT, the outcome the coordinator decided
     */
    record Heuristics(String gtrid, String name, Outcome decided, List<BranchHeuristic> branches) implements LogRecord {
        public Heuristics {
            Ids.requireGtrid(gtrid);
            if (decided != Outcome.ROLLED_BACK && decided != Outcome.TIMED_OUT) {
                throw new IllegalArgumentException("Heuristics records a rolled-back transaction, got " + decided);
            }
            branches = List.copyOf(branches);
        }

        @Override
        public boolean keepsOpen() {
            return true;
        }
    }

    /** One branch a database decided on its own, and how. */
    record BranchHeuristic(Branch branch, AckResult result) {
        public BranchHeuristic {
            java.util.Objects.requireNonNull(branch, "branch");
            if (result == null || !result.isHeuristic()) {
                throw new IllegalArgumentException("a heuristic result is required, got " + result);
            }
        }
    }

    /**
     * 3PC: a transaction with a PRE_COMMIT record was rolled back. Must be durable before the client is
     * told ROLLED_BACK: without it a restarted coordinator finds the PRE_COMMIT record alone, asks the
     * branches again, and if every one of them is prepared (a YES lost with an agent's stream, a
     * ROLLBACK lost with the coordinator) it commits what the client heard was rolled back. The ROLLBACKs
     * themselves need not wait: a branch that got one answers NO when asked again.
     */
    record Aborted(String gtrid) implements LogRecord {
        public Aborted {
            Ids.requireGtrid(gtrid);
        }

        @Override
        public boolean mustBeDurable() {
            return true;
        }
    }

    /**
     * Every branch acknowledged phase 2. Written lazily (no fsync of its own): if it is lost in a
     * crash, recovery resends an idempotent COMMIT, which costs a message and breaks nothing.
     */
    record Completed(String gtrid) implements LogRecord {
        public Completed {
            Ids.requireGtrid(gtrid);
        }
    }
}
