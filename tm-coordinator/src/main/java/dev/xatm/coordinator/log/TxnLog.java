package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import dev.xatm.protocol.ClusterId;
import dev.xatm.coordinator.cluster.Cluster;

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
     * Stores shared by several servers (the JDBC store) start taking over dead nodes here and hand
     * each dead node's open records to {@code adopter}; call once, after {@link #open()}. The default
     * (a store of one server, such as the file log) has no other nodes and does nothing.
     */
    default void startTakeovers(Adopter adopter) {
    }

    /**
     * The other servers sharing this store and what they decided (docs/ha.md). A store of one server
     * (the file log) has none: {@link Cluster#SINGLE}.
     */
    default Cluster cluster() {
        return Cluster.SINGLE;
    }

    /** Receives the open records of a node this server took over; called on the store's own thread. */
    @FunctionalInterface
    interface Adopter {
        /** @param from the dead node, for logs and history ("node 1 (epoch 3)") */
        void adopt(String from, List<LogRecord> records);
    }

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
