package dev.xatm.coordinator.engine;

import dev.xatm.core.Reply;
import dev.xatm.coordinator.log.TxnLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The stall watchdog: how long the log's oldest append has waited, and what the coordinator does once
 * that passes {@code tm.server.log.stall-timeout}. A stalled log never freezes the coordinator
 * silently: its {@link TxnLog#stallPolicy()} says whether the node halts (the file log) or stays up,
 * refusing new work and showing the store DOWN until the writes go through again (JDBC).
 *
 * <p>Thread-safety: {@link #check()} runs on the loop's ticker thread, never on the loop thread, so it
 * sees a stall even while the loop itself waits for room in the log's queue. The verdict is published
 * in volatile fields that request threads and the health endpoint read.
 */
final class StoreWatchdog {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorLoop.class);

    private final TxnLog txnLog;
    private final long stallTimeoutNanos;
    private final BiConsumer<String, Throwable> halt;
    private volatile boolean stalled;
    private volatile long pendingMillis;

    /** @param halt called when a log whose policy is {@link TxnLog.StallPolicy#HALT} stalls */
    StoreWatchdog(TxnLog txnLog, long stallTimeoutNanos, BiConsumer<String, Throwable> halt) {
        this.txnLog = txnLog;
        this.stallTimeoutNanos = stallTimeoutNanos;
        this.halt = halt;
    }

    /** How often {@link #check()} should run: every tick, or a quarter of the stall timeout if shorter. */
    long intervalMillis(long tickMillis) {
        return Math.max(1, Math.min(tickMillis, TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) / 4));
    }

    void check() {
        try {
            OptionalLong since = txnLog.oldestPendingSince();
            long waitedNanos = since.isPresent() ? Math.max(0, System.nanoTime() - since.getAsLong()) : 0;
            pendingMillis = TimeUnit.NANOSECONDS.toMillis(waitedNanos);
            boolean now = waitedNanos > stallTimeoutNanos;
            if (now && txnLog.stallPolicy() == TxnLog.StallPolicy.HALT) {
                halt.accept("the transaction log has not completed an append for " + pendingMillis + " ms (tm.server.log.stall-timeout is "
                        + TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) + " ms): the disk does not finish a write or fsync", null);
                return;
            }
            if (now && !stalled) {
                log.error("The transaction store has not completed an append for {} ms (tm.server.log.stall-timeout is {} ms);"
                        + " refusing new transactions with UNAVAILABLE until it does. Phase 2 of decided transactions goes on",
                        pendingMillis, TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos));
            } else if (!now && stalled) {
                log.info("The transaction store completes appends again; taking new transactions");
            }
            stalled = now;
        } catch (RuntimeException e) {
            // the watchdog must keep running: a ScheduledExecutorService drops a task that throws
            log.warn("Checking the transaction store for a stall failed: {}", e.toString());
        }
    }

    /**
     * New work (Begin, RegisterBranch, a commit) would only add decisions to a log that is not
     * writing them: answer it UNAVAILABLE at once, so callers fail fast and retry elsewhere or later.
     * Rollbacks, status, agents' votes and acks still go through: none needs a new durable record
     * (a rollback is presumed), and phase 2 of durable decisions keeps going.
     *
     * @return whether {@code reply} was refused (completed exceptionally)
     */
    boolean refused(CompletableFuture<Reply> reply) {
        if (!stalled) {
            return false;
        }
        reply.completeExceptionally(CoordinatorUnavailableException.storeStalled(pendingMillis));
        return true;
    }

    boolean stalled() {
        return stalled;
    }

    long pendingMillis() {
        return pendingMillis;
    }
}
