package dev.xatm.bench.report;

/**
 * The warm-up and window lengths of a run: at least {@code warmupMs} at the first thread count of
 * each variant's JVM and {@code rewarmMs} at each later one, longer until the JIT compiler threads
 * settle, at most {@code warmupMaxMs} per thread count (see dev.xatm.bench.measure.WarmupPlan).
 */
public record Timing(long warmupMs, long rewarmMs, long warmupMaxMs, long measureMs) {
}
