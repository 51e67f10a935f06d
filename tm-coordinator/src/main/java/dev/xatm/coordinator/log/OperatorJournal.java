package dev.xatm.coordinator.log;

import java.util.List;

/**
 * The durable record of operators' forced resolutions, kept by the same store as the transaction log
 * (a file beside the segments, or a table beside the decisions), so that a transaction's history still
 * shows who forced what, and why, after tm-server restarts. Thread-safe; operator actions are rare, so
 * each is written and made durable on its own.
 */
public interface OperatorJournal {

    /** Keeps nothing: for logs that are not a real store (tests, benchmarks). */
    OperatorJournal NONE = new OperatorJournal() {
        @Override
        public void record(OperatorAction action) {
        }

        @Override
        public List<OperatorAction> of(String gtrid) {
            return List.of();
        }
    };

    /** Returns once {@code action} is on stable storage; a failure throws {@link TxnLogException}. */
    void record(OperatorAction action);

    /** Every recorded action on {@code gtrid}, oldest first. */
    List<OperatorAction> of(String gtrid);
}
