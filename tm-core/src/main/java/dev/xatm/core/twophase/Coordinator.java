package dev.xatm.core.twophase;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.TxnStatus;

/**
 * The 2PC coordinator (presumed abort) as a pure state machine over all live global transactions.
 * Thread-unsafe: the driver calls it from one thread. No clock, no I/O: events in, effects out.
 * TODO(skeleton): implementation pending.
 */
public final class Coordinator {

    public Coordinator(CoordinatorConfig config) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    /** Rebuilds the state a crashed coordinator left durable: every decision without completion resumes phase 2. */
    public static Coordinator restore(CoordinatorConfig config, Iterable<LogRecord> durableRecords, long nowMillis) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public Effects step(Event event) {
        throw new UnsupportedOperationException("not yet implemented");
    }

    public TxnStatus status(String gtrid) {
        throw new UnsupportedOperationException("not yet implemented");
    }
}
