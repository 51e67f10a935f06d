package dev.xatm.client;

/** What a callback may know about and do to the global transaction it runs in. */
public interface GlobalTransactionStatus {
    /** The gtrid, or null when the callback runs without a global transaction. */
    String gtrid();

    /** True when this callback began the transaction (false when it joined one). */
    boolean isNewTransaction();

    /** Roll back instead of committing at the end; no exception needed. */
    void setRollbackOnly();

    boolean isRollbackOnly();
}
