package dev.xatm.server.engine;

/**
 * The loop did not take a request: either its queue is full (retry later) or it is stopping.
 * Neither changed anything.
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

    /** True when the queue was full (retry soon); false when the coordinator is stopping. */
    public boolean overloaded() {
        return overloaded;
    }
}
