package dev.xatm.client.context;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
     * For an initiator scope that commits in one round trip: what must happen before its
     * gtrid first leaves the process (begin at the coordinator, register the branches so far), after
     * which the scope registers branches like any other. Null when it registers from the start.
     */
    private Consumer<TxScope> beforeFirstPropagation;

    /**
     * @param deadlineNanos {@link System#nanoTime()} value past which the scope refuses database
     *                      work: the global transaction's deadline (for a joined downstream scope, the
     *                      one its caller's TM-XID header carried); {@link Long#MAX_VALUE} for none,
     *                      which only tests use: such a scope's gtrid cannot be propagated over HTTP
     */
    public TxScope(String gtrid, boolean initiator, long deadlineNanos) {
        this(gtrid, initiator, deadlineNanos, null);
    }

    /**
     * @param beforeFirstPropagation null for a scope whose branches are registered with the
     *                               coordinator as they join; else run once, on the scope's thread,
     *                               before the gtrid first goes to another service
     */
    public TxScope(String gtrid, boolean initiator, long deadlineNanos, Consumer<TxScope> beforeFirstPropagation) {
        this.gtrid = gtrid;
        this.initiator = initiator;
        this.deadlineNanos = deadlineNanos;
        this.beforeFirstPropagation = beforeFirstPropagation;
    }

    /**
     * Whether branches that join register with the coordinator now. False only for an initiator
     * scope whose gtrid never left the process: its branches ride on its commit request instead.
     */
    public boolean registersBranches() {
        return beforeFirstPropagation == null;
    }

    /**
     * The gtrid is about to go to another service (an outgoing HTTP call): that service's branches
     * will register with the coordinator, so the coordinator must know the transaction first.
     */
    public void propagating() {
        Consumer<TxScope> first = beforeFirstPropagation;
        if (first != null) {
            first.accept(this);
            beforeFirstPropagation = null; // only once it worked: a failed begin is tried again on the next call
        }
    }

    /** What the scope holds now, in the order it was taken (before {@link #end}). */
    public List<Held> heldNow() {
        return new ArrayList<>(held.values());
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

    /** Whether the scope has a deadline (every scope the starter makes has one). */
    public boolean hasDeadline() {
        return deadlineNanos != Long.MAX_VALUE;
    }

    /**
     * Nanoseconds left until the deadline (negative once past it); {@link Long#MAX_VALUE} without one.
     * An outgoing TM-XID header carries it, so the called service stops when this scope must.
     */
    public long remainingNanos() {
        return hasDeadline() ? deadlineNanos - System.nanoTime() : Long.MAX_VALUE;
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
