package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator's durable transaction log.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #open()} is called once, before any append, and returns every record that was durable
 *       when the previous incarnation stopped, in append order, after compaction (a checkpoint may
 *       have replaced finished history by nothing). A torn or corrupt tail is dropped, never fatal;
 *       damage anywhere else is, because it could hide a decision.</li>
 *   <li>{@link #append} is thread-safe. With {@code sync}, the future completes only after the record
 *       is on stable storage (group commit: concurrent appends share one fsync). Without it, the record
 *       is written with the next sync or flush but may be lost in a crash.</li>
 *   <li>A failed write completes the future exceptionally; the log then refuses further appends
 *       (a decision must never be acknowledged after an I/O error we did not understand).</li>
 * </ul>
 *
 * <p>A log is only a log: the other servers of a shared store, their leases and takeovers are the
 * cluster package's, wired beside the log by the store's configuration (this package never depends on
 * it). Besides open / append / close it answers what recovery and the admin views need from the
 * store: the cluster id it keeps, the operator journal, and how long its oldest append has waited.
 */
public interface TxnLog extends AutoCloseable {

    List<LogRecord> open();

    /**
     * The deployment's cluster id, kept in this store with the decisions it guards: the recorded one;
     * on a store that holds none yet, {@code configured} (tm.server.cluster-id) or a generated one,
     * recorded durably before it is returned. A configured id other than the recorded one fails with a
     * {@link TxnLogException} that says what to do. Called once at start-up, before {@link #open()}.
     * No default: a log that forgot it would give its deployment a new id at every start, and leave
     * the prepared branches of the old one to nobody.
     */
    ClusterId clusterId(Optional<ClusterId> configured);

    CompletableFuture<Void> append(List<LogRecord> records, boolean sync);

    /**
     * Where this store keeps operators' forced resolutions (who, when, what, why), beside its records;
     * usable once the store is open. The default keeps nothing (for test and benchmark logs).
     */
    default OperatorJournal operatorJournal() {
        return OperatorJournal.NONE;
    }

    /**
     * {@code System.nanoTime()} at which the oldest append that is not done yet (written, and synced
     * if it asked) was handed to this log; empty while none waits. Any thread may ask: the
     * coordinator's stall watchdog reads it from its ticker thread, never from the loop.
     */
    default OptionalLong oldestPendingSince() {
        return OptionalLong.empty();
    }

    /** What the coordinator does once an append has waited longer than {@code tm.server.log.stall-timeout}. */
    default StallPolicy stallPolicy() {
        return StallPolicy.HALT;
    }

    /** The two ways out of a stalled store; each store says which one fits it, and why. */
    enum StallPolicy {
        /** Halt the process: the store cannot recover without a restart. */
        HALT,
        /**
         * Stay up, refuse new work with UNAVAILABLE and show the store DOWN on the health endpoint
         * until the store takes writes again: the store heals by itself (a database coming back).
         */
        REFUSE_NEW_WORK
    }

    @Override
    void close();
}
