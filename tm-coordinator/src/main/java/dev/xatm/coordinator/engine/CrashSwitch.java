package dev.xatm.coordinator.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Halts the process when the driver reaches the armed {@link CrashPoint}: a test's way of killing the
 * server at an exact point. Disarmed ({@link #NONE}) unless {@code tm.server.crash-point} is set,
 * and then the start-up log says so loudly; costs a field read per check otherwise.
 *
 * <p>Thread-safe (immutable); {@link #reached} may be called from the loop and the log's threads.
 */
public final class CrashSwitch {
    /** The exit status of a deliberate crash, so a test can tell it from any other death. */
    public static final int CRASH_STATUS = 86;
    public static final CrashSwitch NONE = new CrashSwitch(null, status -> { });
    private static final Logger log = LoggerFactory.getLogger(CrashSwitch.class);

    private final CrashPoint armed;
    private final CoordinatorLoop.Halt halt;

    public CrashSwitch(CrashPoint armed, CoordinatorLoop.Halt halt) {
        this.armed = armed;
        this.halt = halt;
        if (armed != null) {
            log.warn("CRASH POINT ARMED: tm.server.crash-point={} -- this server halts itself there (testing only)",
                    armed.propertyValue());
        }
    }

    public CrashPoint armed() {
        return armed;
    }

    /** Halts at once (no shutdown hooks, like kill -9) if {@code point} is the armed one. */
    public void reached(CrashPoint point, String detail) {
        if (point == armed) {
            log.error("CRASH POINT {} reached ({}): halting now", point.propertyValue(), detail);
            halt.halt(CRASH_STATUS);
        }
    }
}
