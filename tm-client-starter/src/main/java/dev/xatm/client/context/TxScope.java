package dev.xatm.client.context;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One thread's participation in one global transaction: the initiator's
 * {@code @GlobalTransactional} call, or a downstream request that joined by the TM-XID header.
 *
 * <p>It remembers what the scope touched (enlisted branches, by resource) so that everything it
 * holds is handed back when the scope ends: a branch may only be prepared or rolled back by the
 * agent once no business thread uses its connection any more. Confined to its thread, except
 * {@link #isRollbackOnly()} / {@link #setRollbackOnly}, which the agent may call.
 */
public final class TxScope {
    /** Something held while the scope lasts; {@code doomed} says the scope ended in failure. */
    public interface Held {
        void release(boolean doomed);
    }

    private final String gtrid;
    private final boolean initiator;
    private final long deadlineNanos;
    private final Map<String, Held> held = new LinkedHashMap<>();
    private volatile String rollbackOnlyReason;

    /**
     * @param deadlineNanos {@link System#nanoTime()} value past which the scope refuses database
     *                      work; {@link Long#MAX_VALUE} when unknown (a joined downstream scope)
     */
    public TxScope(String gtrid, boolean initiator, long deadlineNanos) {
        this.gtrid = gtrid;
        this.initiator = initiator;
        this.deadlineNanos = deadlineNanos;
    }

    public String gtrid() {
        return gtrid;
    }

    /** True for the scope that began the transaction and will commit or roll it back. */
    public boolean initiator() {
        return initiator;
    }

    public boolean pastDeadline() {
        return deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0;
    }

    public void setRollbackOnly(String reason) {
        if (rollbackOnlyReason == null) {
            rollbackOnlyReason = reason;
        }
    }

    public boolean isRollbackOnly() {
        return rollbackOnlyReason != null;
    }

    public String rollbackOnlyReason() {
        return rollbackOnlyReason;
    }

    /** Whether the scope already holds something under {@code key}. */
    public Held held(String key) {
        return held.get(key);
    }

    public void hold(String key, Held h) {
        held.putIfAbsent(key, h);
    }

    /** Releases everything held, in order; the first failure is rethrown after all were tried. */
    public void end(boolean doomed) {
        List<Held> all = new ArrayList<>(held.values());
        held.clear();
        RuntimeException first = null;
        for (Held h : all) {
            try {
                h.release(doomed);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return gtrid;
    }
}
