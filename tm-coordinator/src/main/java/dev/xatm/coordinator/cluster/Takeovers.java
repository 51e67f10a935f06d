package dev.xatm.coordinator.cluster;

import dev.xatm.core.LogRecord;

import java.util.List;

/**
 * The takeover of dead servers on a shared store: their open transactions are handed to the
 * coordinator, which resumes them like its own restored ones (docs/ha.md). A store of one server (the
 * file log) has nobody to take over: {@link #NONE}.
 */
public interface Takeovers {

    /**
     * Starts watching for dead nodes and hands each one's open records to {@code adopter}; called once,
     * after the log opened (the node's own lease is claimed then).
     */
    void start(Adopter adopter);

    /** Receives the open records of a node this server took over; called on the watcher's own thread. */
    @FunctionalInterface
    interface Adopter {
        /** @param from the dead node, for logs and history ("node 1 (epoch 3)") */
        void adopt(String from, List<LogRecord> records);
    }

    /** A store of one server: nothing to take over. */
    Takeovers NONE = adopter -> { };
}
