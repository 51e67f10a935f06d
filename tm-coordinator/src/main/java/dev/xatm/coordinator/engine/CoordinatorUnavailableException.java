package dev.xatm.coordinator.engine;

/**
 * The loop did not take a request: its queue is full (retry later), its transaction store is
 * stalled (retry later; UNAVAILABLE), or it is stopping. None of these changed anything.
 */
public final class CoordinatorUnavailableException extends RuntimeException {
    private final boolean overloaded;

    CoordinatorUnavailableException(boolean overloaded, String message) {
        super(message, null, false, false);
        this.overloaded = overloaded;
    }

    static CoordinatorUnavailableException overloaded(int capacity) {
        return new CoordinatorUnavailableException(true,
                "coordinator busy: " + capacity + " requests already queued; retry later");
    }

    static CoordinatorUnavailableException stopped() {
        return new CoordinatorUnavailableException(false, "coordinator is not running (starting or shutting down)");
    }

    static CoordinatorUnavailableException storeStalled(long pendingMillis) {
        return new CoordinatorUnavailableException(false,
                "coordinator unavailable: its transaction store has not completed a write for " + pendingMillis
                        + " ms, so it takes no new work until the store recovers; retry later");
    }

    /** True when the queue was full (retry soon); false when the coordinator is stopping. */
    public boolean overloaded() {
        return overloaded;
    }
}
