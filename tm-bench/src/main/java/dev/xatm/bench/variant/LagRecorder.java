package dev.xatm.bench.variant;

import dev.xatm.outbox.relay.RelayObserver;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The xatm-outbox variant's relay lag: every message's insert-to-confirm time, as the relay reports
 * it, kept exactly (a bounded array; a cell sends well under a million messages) for the p50/p99.
 */
final class LagRecorder implements RelayObserver {
    private static final int MAX = 2_000_000;
    private final long[] lagsMillis = new long[MAX];
    private int count;
    private int failures;

    @Override
    public synchronized void sent(String dataSource, long lagMillis) {
        if (count < MAX) {
            lagsMillis[count++] = lagMillis;
        }
    }

    @Override
    public synchronized void failed(String dataSource, Exception e) {
        failures++;
    }

    /** {@code outbox.sent}, {@code outbox.lag.p50.ms}, {@code outbox.lag.p99.ms}, {@code outbox.relay.failures}. */
    synchronized Map<String, String> summary() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("outbox.sent", Integer.toString(count));
        m.put("outbox.relay.failures", Integer.toString(failures));
        if (count > 0) {
            long[] sorted = Arrays.copyOf(lagsMillis, count);
            Arrays.sort(sorted);
            m.put("outbox.lag.p50.ms", Long.toString(sorted[(int) Math.min(count - 1, Math.ceil(count * 0.50) - 1)]));
            m.put("outbox.lag.p99.ms", Long.toString(sorted[(int) Math.min(count - 1, Math.ceil(count * 0.99) - 1)]));
        }
        return m;
    }
}
