package dev.xatm.core.commit;

/** Arithmetic on the driver's millisecond clock, which may start anywhere (a monotonic clock has no epoch). */
final class Millis {
    private Millis() {}

    /** a + b, clamped instead of wrapping: a deadline "at the end of time" must not become one in the past. */
    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow only if both have the same sign and the sum's sign differs.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }
}
