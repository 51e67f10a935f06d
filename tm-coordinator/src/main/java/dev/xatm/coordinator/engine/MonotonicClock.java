package dev.xatm.coordinator.engine;

/**
 * The coordinator's only clock: milliseconds that never jump backwards. Deadlines and resends are
 * computed on it, so a wall-clock step (NTP, a VM resume, an operator) cannot time out or prolong a
 * transaction. Wall-clock time is used for display only.
 */
@FunctionalInterface
public interface MonotonicClock {

    long millis();

    /** {@link System#nanoTime()} in milliseconds since this clock was made. */
    static MonotonicClock system() {
        long origin = System.nanoTime();
        return () -> (System.nanoTime() - origin) / 1_000_000L;
    }
}
