package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.context.Observed;

/** What the transaction machinery reports. Implementations must be thread-safe and cheap. */
public interface TxMetrics {
    TxMetrics NONE = new TxMetrics() {};

    /** A global transaction began, to be committed with {@code protocol}. */
    default void begun(CommitProtocol protocol) {}

    /** A global transaction this instance began, with {@code protocol}, ended with {@code outcome}. */
    default void ended(GlobalOutcome outcome, CommitProtocol protocol) {}

    /** How long the coordinator took to answer a commit ("commit") or rollback ("rollback") request. */
    default void phaseLatency(String phase, long nanos) {}

    /**
     * Opens the observation of {@code what} for {@code gtrid} on this thread: "transaction" (Begin to
     * outcome), "begin" (the Begin call, when the
     * commit path sends one), "commit" or "rollback" (the coordinator round trip).
     */
    default Observed observe(String what, String gtrid, CommitProtocol protocol) {
        return Observed.NONE;
    }
}
