package dev.xatm.protocol;

import org.slf4j.MDC;

/**
 * Puts a global transaction's gtrid in the logging MDC under {@link #KEY} ({@code xatm.xid}) for the
 * work a thread does for it, in the application and in tm-server alike, so that one
 * {@code grep <gtrid>} over both processes' logs tells the transaction's whole story. A log pattern
 * shows it with {@code %X{xatm.xid}}.
 *
 * <p>Threads are pooled, so a scope always puts back what was there before (another gtrid, or
 * nothing) when it closes; use it in try-with-resources on the thread that opened it. Stateless
 * and thread-safe (the MDC itself is per thread).
 */
public final class XidMdc {
    /** The MDC key: {@code xatm.xid}. */
    public static final String KEY = "xatm.xid";

    private static final Scope NOTHING_TO_RESTORE = () -> {};
    private static final Scope REMOVE = () -> MDC.remove(KEY);

    /** Restores the MDC value a {@link #put} replaced. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    private XidMdc() {}

    /**
     * Puts {@code gtrid} under {@link #KEY} until the returned scope closes; a null gtrid changes
     * nothing. The common cases (nothing there before, or the same gtrid) allocate nothing.
     */
    public static Scope put(String gtrid) {
        if (gtrid == null) {
            return NOTHING_TO_RESTORE;
        }
        String previous = MDC.get(KEY);
        if (gtrid.equals(previous)) {
            return NOTHING_TO_RESTORE;
        }
        MDC.put(KEY, gtrid);
        return previous == null ? REMOVE : () -> MDC.put(KEY, previous);
    }
}
