package dev.xatm.core;

import java.util.List;

/**
 * What the coordinator writes to its durable log. Presumed abort: nothing is written for a
 * transaction until its COMMIT decision, and nothing at all for one-phase or rolled-back ones.
 * After a crash, a gtrid without a {@link Decision} is aborted.
 */
public sealed interface LogRecord {

    String gtrid();

    /**
     * The COMMIT decision and everything phase 2 needs to finish it after a restart: which branches
     * voted YES and which agent holds each. Must be durable (fsynced) before the first COMMIT is sent.
     */
    record Decision(String gtrid, String name, List<Branch> branches) implements LogRecord {
        public Decision {
            Ids.requireGtrid(gtrid);
            branches = List.copyOf(branches);
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
