package dev.xatm.outbox.relay;

import java.util.SplittableRandom;

/**
 * Exponential backoff with jitter for the relay after a failed pass (broker or database down):
 * {@code initial * 2^(failures-1)}, capped at {@code max}, then a uniform draw in [half, all] of it
 * so that several instances do not hammer a broker that comes back in lockstep. The random source
 * is injected (seeded in tests). Not thread-safe: one per relay loop.
 */
public final class Backoff {
    private final long initialMillis;
    private final long maxMillis;
    private final SplittableRandom random;

    public Backoff(long initialMillis, long maxMillis, SplittableRandom random) {
        if (initialMillis < 1 || maxMillis < initialMillis) {
            throw new IllegalArgumentException("backoff needs 1 <= initial <= max, not " + initialMillis + " / " + maxMillis);
        }
        this.initialMillis = initialMillis;
        this.maxMillis = maxMillis;
        this.random = random;
    }

    /** The pause after the {@code failures}-th failure in a row (1 for the first). */
    public long delayMillis(int failures) {
        if (failures < 1) {
            throw new IllegalArgumentException("failures starts at 1: " + failures);
        }
        long ceiling = initialMillis;
        for (int i = 1; i < failures && ceiling < maxMillis; i++) {
            ceiling *= 2;
        }
        ceiling = Math.min(ceiling, maxMillis);
        long floor = Math.max(1, ceiling / 2);
        return floor + random.nextLong(ceiling - floor + 1);
    }
}
