package dev.xatm.bench.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The goals of issue 17 measured against one run's table (variant -> threads -> the representative
 * cell), as the targets section and as the three machine-readable summary lines the document ends
 * with. Pure: every number comes from the cells, "n/a" (or "not measured") where a cell is missing.
 */
final class Goals {
    static final String OURS = "xatm-remote";
    static final String RAW = "rawxa";
    static final String EMBEDDED = "xatm-embedded";
    static final String THREE_PC = "xatm-3pc";
    /** The no-collapse goal: our scaling ratio may trail raw XA's by at most this much. */
    static final double SCALING_SLACK = 0.05;
    static final double HEAP_LIMIT_MIB = 256;

    private final Map<String, Map<Integer, CellResult>> table;

    Goals(Map<String, Map<Integer, CellResult>> table) {
        this.table = table;
    }

    CellResult cell(String variant, int threads) {
        return table.getOrDefault(variant, Map.of()).get(threads);
    }

    Optional<CellResult> bestPeer(int threads) {
        return Stream.of(cell("narayana", threads), cell("atomikos", threads))
                .filter(Goals::ok).max(Comparator.comparingDouble(CellResult::tps));
    }

    /** tps of {@code a} over tps of {@code b} at the same thread count; NaN when either is missing or failed. */
    double ratio(String a, String b, int threads) {
        return x(cell(a, threads), cell(b, threads));
    }

    double oursOverBestPeer(int threads) {
        return x(cell(OURS, threads), bestPeer(threads).orElse(null));
    }

    /** tps at {@code threads} over tps at {@code base} of one variant: how it scales. */
    double scaling(String variant, int threads, int base) {
        return x(cell(variant, threads), cell(variant, base));
    }

    double p99Ratio(int threads) {
        CellResult ours = cell(OURS, threads);
        CellResult raw = cell(RAW, threads);
        return ok(ours) && ok(raw) && raw.num("lat.p99.ms") > 0 ? ours.num("lat.p99.ms") / raw.num("lat.p99.ms") : Double.NaN;
    }

    /** The document's last three lines, in this order. */
    List<String> summaryLines() {
        return List.of(ratioLine(32), ratioLine(8),
                "scaling: ours-32/ours-8=" + dec(scaling(OURS, 32, 8)) + " raw-32/raw-8=" + dec(scaling(RAW, 32, 8))
                        + " p99-32 ours/raw-xa=" + dec(p99Ratio(32)) + " 3pc/ours-32=" + dec(ratio(THREE_PC, OURS, 32)));
    }

    private String ratioLine(int t) {
        return "ratio-" + t + ": ours/best-peer=" + dec(oursOverBestPeer(t)) + " ours/raw-xa=" + dec(ratio(OURS, RAW, t))
                + " embedded/raw-xa=" + dec(ratio(EMBEDDED, RAW, t));
    }

    /** The targets section: every goal at 32 threads (scaling against 8), met, missed or not measured. */
    String targets() {
        StringBuilder s = new StringBuilder("Targets of issue 17 (at 32 client threads unless said otherwise):\n\n");
        s.append(atLeast("(e) ours 2PC (remote) >= 1.2x the faster of Narayana and Atomikos", oursOverBestPeer(32), 1.2));
        s.append(atLeast("(e) ours 2PC (remote) >= 0.75x raw XA", ratio(OURS, RAW, 32), 0.75));
        s.append(noCollapse(32)).append(noCollapse(64));
        s.append(atMost("p99 of (e) <= 1.5x raw XA's p99", p99Ratio(32), 1.5));
        s.append(atLeast("(g) ours embedded >= 0.9x raw XA", ratio(EMBEDDED, RAW, 32), 0.9));
        s.append(atLeast("(f) ours 3PC >= 0.6x (e)", ratio(THREE_PC, OURS, 32), 0.6));
        s.append(heap());
        s.append(jit());
        return s.toString();
    }

    private String noCollapse(int t) {
        // One-sided: (e) scaling better than raw XA is no collapse.
        String what = "no collapse: (e)'s tx/s at " + t + " over 8 threads at most " + dec(SCALING_SLACK) + " below raw XA's";
        double ours = scaling(OURS, t, 8);
        double raw = scaling(RAW, t, 8);
        if (Double.isNaN(ours) || Double.isNaN(raw)) {
            return "- " + what + ": not measured\n";
        }
        boolean met = ours >= raw - SCALING_SLACK;
        return "- " + what + ": " + dec(ours) + " against " + dec(raw) + " -> " + (met ? "met" : "**missed**") + "\n";
    }

    private String heap() {
        CellResult big = cell(OURS, 64);
        String what = "tm-server live heap < " + (int) HEAP_LIMIT_MIB + " MiB at 64 threads";
        if (!ok(big) || Double.isNaN(big.num("heap.server.live.mb"))) {
            return "- " + what + ": not measured\n";
        }
        double live = big.num("heap.server.live.mb");
        return "- " + what + ": live after GC " + f0(live) + " MiB, peak used " + f0(big.num("heap.server.peak.mb"))
                + " MiB (default JVM heap sizing, so the peak mostly shows how far G1 lets the young generation grow) -> "
                + (live < HEAP_LIMIT_MIB ? "met" : "**missed**") + "\n";
    }

    /** The JIT share of every measured cell must be under the settled bar, or the cell did not measure a steady state. */
    private String jit() {
        List<String> over = new ArrayList<>();
        int measured = 0;
        double worst = Double.NaN;
        for (Map.Entry<String, Map<Integer, CellResult>> v : table.entrySet()) {
            for (CellResult r : new TreeMap<>(v.getValue()).values()) {
                double share = ok(r) ? r.num("jit.share") : Double.NaN;
                if (Double.isNaN(share)) {
                    continue;
                }
                measured++;
                worst = Double.isNaN(worst) ? share : Math.max(worst, share);
                if (share >= 0.05) {
                    over.add(Report.label(v.getKey()) + " at " + r.threads() + " (" + pct(share) + ")");
                }
            }
        }
        String what = "JIT share < 5% in every cell";
        if (measured == 0) {
            return "- " + what + ": not measured\n";
        }
        return "- " + what + ": worst " + pct(worst) + (over.isEmpty() ? " -> met" : " -> **missed** in " + String.join(", ", over)) + "\n";
    }

    private static String atLeast(String what, double value, double bar) {
        return Double.isNaN(value) ? "- " + what + ": not measured\n"
                : "- " + what + ": " + dec(value) + "x -> " + (value >= bar ? "met" : "**missed**") + "\n";
    }

    private static String atMost(String what, double value, double bar) {
        return Double.isNaN(value) ? "- " + what + ": not measured\n"
                : "- " + what + ": " + dec(value) + "x -> " + (value <= bar ? "met" : "**missed**") + "\n";
    }

    static double x(CellResult a, CellResult b) {
        return ok(a) && ok(b) && b.tps() > 0 ? a.tps() / b.tps() : Double.NaN;
    }

    static boolean ok(CellResult r) {
        return r != null && r.ok();
    }

    static String dec(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String pct(double share) {
        return Double.isNaN(share) ? "" : String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    private static String f0(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%,.0f", v);
    }
}
