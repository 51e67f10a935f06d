package dev.xatm.client.context;

/**
 * The global transaction bound to the current thread, like spring-tx's
 * TransactionSynchronizationManager: infrastructure, not for application code (which uses
 * {@code GlobalTransactionTemplate} or reads the gtrid from its status).
 *
 * <p>Suspension is binding {@code null} (or another scope) and restoring the previous value later;
 * {@link #bind} returns what it replaced so callers can restore it in a finally block.
 */
public final class GlobalTxContext {
    private static final ThreadLocal<TxScope> CURRENT = new ThreadLocal<>();

    private GlobalTxContext() {}

    /** The scope bound to this thread, or null. */
    public static TxScope current() {
        return CURRENT.get();
    }

    /** The bound gtrid, or null. */
    public static String currentGtrid() {
        TxScope s = CURRENT.get();
        return s == null ? null : s.gtrid();
    }

    /**
     * The bound gtrid, for an outgoing call that carries it to another service, or null. The scope
     * learns that its gtrid leaves the process (see {@link TxScope#propagating()}).
     */
    public static String gtridForPropagation() {
        TxScope s = scopeForPropagation();
        return s == null ? null : s.gtrid();
    }

    /**
     * The bound scope, for an outgoing call that carries its gtrid and deadline to another service,
     * or null; as {@link #gtridForPropagation()}, the scope learns that its gtrid leaves the process.
     */
    public static TxScope scopeForPropagation() {
        TxScope s = CURRENT.get();
        if (s == null) {
            return null;
        }
        s.propagating();
        return s;
    }

    /** Binds {@code scope} (null unbinds) and returns the scope it replaced. */
    public static TxScope bind(TxScope scope) {
        TxScope previous = CURRENT.get();
        if (scope == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(scope);
        }
        return previous;
    }
}
