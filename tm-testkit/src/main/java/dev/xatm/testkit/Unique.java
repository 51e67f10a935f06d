package dev.xatm.testkit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Names that no other test, run or concurrent build on the same database servers uses: time, pid
 * and a counter (no randomness to seed). Lower-case base 36, so they fit table names and gtrids.
 */
public final class Unique {
    private static final AtomicLong COUNTER = new AtomicLong();

    private Unique() {}

    public static String suffix() {
        return Long.toString(System.currentTimeMillis(), 36) + Long.toString(ProcessHandle.current().pid() % 1296, 36)
                + COUNTER.incrementAndGet();
    }
}
