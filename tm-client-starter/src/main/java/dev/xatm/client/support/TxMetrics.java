package dev.xatm.client.support;

import dev.xatm.client.GlobalOutcome;

/** What the transaction machinery reports. Implementations must be thread-safe and cheap. */
public interface TxMetrics {
    TxMetrics NONE = new TxMetrics() {};

    default void begun() {}

    /** A global transaction this instance began ended with {@code outcome}. */
    default void ended(GlobalOutcome outcome) {}

    /** How long the coordinator took to answer a commit ("commit") or rollback ("rollback") request. */
    default void phaseLatency(String phase, long nanos) {}
}
