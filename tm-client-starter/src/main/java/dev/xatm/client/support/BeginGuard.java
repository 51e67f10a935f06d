package dev.xatm.client.support;

import dev.xatm.client.GlobalTransactionDefinition;

/**
 * Asked by {@link GlobalTransactionManager} right before it begins a <em>new</em> global transaction
 * (propagation REQUIRED with none bound, REQUIRES_NEW), never when a method joins one or runs
 * without one. An implementation throws {@link dev.xatm.client.TmUsageException} when the calling
 * thread's state would make part of the new transaction's work silently run outside it; it changes
 * nothing. Kept free of Spring types, like the manager; the Spring-aware one is
 * {@code enlist.LocalTransactionGuard}. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface BeginGuard {
    /** Lets every global transaction begin. */
    BeginGuard NONE = definition -> { };

    /** Throws {@link dev.xatm.client.TmUsageException} when {@code definition} must not begin on this thread now. */
    void checkBeforeBegin(GlobalTransactionDefinition definition);
}
