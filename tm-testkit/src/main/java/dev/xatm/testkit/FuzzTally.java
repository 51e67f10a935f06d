package dev.xatm.testkit;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counts a fuzz test reports: how many generated cases ran against one surface, how many failed,
 * and a histogram of how they ended (an HTTP status, a gRPC code, "decoded" or "bad record"). The
 * one line {@link #summary} prints is what CI output shows for the surface, so a run that silently
 * generated far fewer cases than asked is visible.
 *
 * <p>Thread-safe: a case may finish on another thread (a gRPC callback).
 */
public final class FuzzTally {
    /** One generated case: does its thing, checks what must hold, and names how it ended. */
    @FunctionalInterface
    public interface Case {
        String run() throws Exception;
    }

    private final String surface;
    private final String histogramName;
    private final LongAdder cases = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();

    /**
     * @param surface       what is fuzzed, e.g. {@code admin-api}
     * @param histogramName what the outcomes are, e.g. {@code status}
     */
    public FuzzTally(String surface, String histogramName) {
        this.surface = surface;
        this.histogramName = histogramName;
    }

    /**
     * Runs one case and counts it under the outcome it returns; a case that throws (a failed check,
     * an unexpected exception) counts as a failure and its exception goes on to the test framework.
     */
    public void run(Case c) throws Exception {
        cases.increment();
        String outcome;
        try {
            outcome = c.run();
        } catch (Exception | Error e) {
            failures.increment();
            outcomes.computeIfAbsent("FAILED", k -> new LongAdder()).increment();
            throw e;
        }
        outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    public long cases() {
        return cases.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** {@code fuzz admin-api: 10000 cases, 0 failures, status histogram {400=5120, 404=3011, ...}} */
    public String summary() {
        Map<String, Long> sorted = new TreeMap<>();
        outcomes.forEach((k, v) -> sorted.put(k, v.sum()));
        return "fuzz " + surface + ": " + cases() + " cases, " + failures() + " failures, " + histogramName + " histogram " + sorted;
    }
}
