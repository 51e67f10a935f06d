package dev.xatm.bench.measure;

/**
 * When a warm-up may end: after at least {@code minMs}, as soon as the JIT compiler threads used
 * less than {@link #SETTLED_SHARE} of the machine (the caller passes the louder of its last two
 * slices: one quiet slice proved too little), and in any case after
 * {@code maxMs}. A fixed warm-up was either too short for the variants that run gRPC, Netty and
 * Spring on the hot path (their compiler threads still took a fifth of the machine after 20 s) or
 * wasted minutes on the JDBC-only ones; the compiler threads' own CPU says when the code has settled.
 *
 * <p>The warm-up runs in slices of at most {@code sliceMs}; the slices before {@code minMs} are cut
 * so that one ends exactly at {@code minMs}, which lets a variant that has settled stop there.
 */
public record WarmupPlan(long minMs, long maxMs, long sliceMs) {
    /** Compiler threads under this share of the machine's capacity (cores x slice) count as settled. */
    public static final double SETTLED_SHARE = 0.05;
    public static final long DEFAULT_SLICE_MS = 5_000;

    public WarmupPlan {
        if (minMs < 0 || sliceMs <= 0) {
            throw new IllegalArgumentException("minMs >= 0 and sliceMs > 0 required, got " + minMs + ", " + sliceMs);
        }
        maxMs = Math.max(minMs, maxMs);
    }

    /** Length of the next slice after {@code elapsedMs} of warm-up (never past {@code minMs} while under it, nor past {@code maxMs}). */
    public long nextSliceMs(long elapsedMs) {
        long limit = elapsedMs < minMs ? minMs : maxMs;
        return Math.max(1, Math.min(sliceMs, limit - elapsedMs));
    }

    /** Whether the warm-up ends after {@code elapsedMs}, the compiler threads' share of the machine in the last slices being {@code lastShare} (NaN: not known yet). */
    public boolean done(long elapsedMs, double lastShare) {
        return elapsedMs >= maxMs || elapsedMs >= minMs && settled(lastShare);
    }

    public static boolean settled(double share) {
        return share < SETTLED_SHARE;
    }

    /**
     * Whether a measured window must be measured again: its compiler threads took {@code windowShare}
     * of the machine (the same bar as the warm-up), and {@code attempts} windows were measured so far
     * out of at most {@code 1 + retries}. A remote variant's compilers come back in bursts after a
     * quiet warm-up (8% and 11% of two windows of the 2026-12-07 matrix), and a window that compiled is
     * not steady state; measuring again in the same, now warmer, JVM is what "measure until it is" means.
     * NaN (no span) never asks for another window.
     */
    public static boolean measureAgain(double windowShare, int attempts, int retries) {
        return attempts <= retries && !Double.isNaN(windowShare) && !settled(windowShare);
    }

    /** CPU seconds of compiler threads as a share of {@code cores} cores over {@code wallSeconds}; NaN without a span. */
    public static double share(double compilerCpuSeconds, int cores, double wallSeconds) {
        return cores <= 0 || wallSeconds <= 0 ? Double.NaN : compilerCpuSeconds / (cores * wallSeconds);
    }
}
