package dev.xatm.bench.report;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class GoalsTest {

    static CellResult cell(String variant, int threads, double tps, double p99, double jitShare) {
        Properties p = new Properties();
        p.setProperty("variant", variant);
        p.setProperty("threads", Integer.toString(threads));
        p.setProperty("status", "ok");
        p.setProperty("tps", Double.toString(tps));
        p.setProperty("lat.p99.ms", Double.toString(p99));
        p.setProperty("jit.share", Double.toString(jitShare));
        return new CellResult(p);
    }

    private static Goals goals(CellResult... cells) {
        return new Goals(Report.representative(List.of(cells)));
    }

    @Test
    void summary_lines_take_the_faster_peer_and_each_ratio_at_its_thread_count() {
        Goals g = goals(
                cell("rawxa", 8, 1000, 10, 0.01), cell("rawxa", 32, 1500, 40, 0.01),
                cell("narayana", 32, 600, 50, 0.01), cell("atomikos", 32, 500, 60, 0.01), cell("narayana", 8, 400, 20, 0.01),
                cell("xatm-remote", 8, 800, 12, 0.02), cell("xatm-remote", 32, 1200, 60, 0.02),
                cell("xatm-embedded", 8, 900, 11, 0.02), cell("xatm-embedded", 32, 1350, 45, 0.02),
                cell("xatm-3pc", 32, 720, 80, 0.02));
        assertThat(g.summaryLines()).containsExactly(
                "ratio-32: ours/best-peer=2.00 ours/raw-xa=0.80 embedded/raw-xa=0.90",
                "ratio-8: ours/best-peer=2.00 ours/raw-xa=0.80 embedded/raw-xa=0.90",
                "scaling: ours-32/ours-8=1.50 raw-32/raw-8=1.50 p99-32 ours/raw-xa=1.50 3pc/ours-32=0.60");
    }

    @Test
    void a_missing_or_failed_variant_prints_na() {
        CellResult failed = CellResult.failed("xatm-remote", 32, "boom");
        Goals g = goals(cell("rawxa", 32, 1500, 40, 0.01), failed, cell("xatm-embedded", 32, 750, 45, 0.01));
        assertThat(g.summaryLines()).containsExactly(
                "ratio-32: ours/best-peer=n/a ours/raw-xa=n/a embedded/raw-xa=0.50",
                "ratio-8: ours/best-peer=n/a ours/raw-xa=n/a embedded/raw-xa=n/a",
                "scaling: ours-32/ours-8=n/a raw-32/raw-8=n/a p99-32 ours/raw-xa=n/a 3pc/ours-32=n/a");
    }

    @Test
    void targets_say_met_missed_and_not_measured() {
        Goals g = goals(
                cell("rawxa", 8, 1000, 10, 0.01), cell("rawxa", 32, 2000, 40, 0.01), cell("rawxa", 64, 2000, 80, 0.01),
                cell("xatm-remote", 8, 1000, 12, 0.01), cell("xatm-remote", 32, 1600, 50, 0.08), cell("xatm-remote", 64, 1980, 90, 0.01));
        String t = g.targets();
        assertThat(t).contains("(e) ours 2PC (remote) >= 0.75x raw XA: 0.80x -> met");
        assertThat(t).contains("faster of Narayana and Atomikos: not measured");
        // 1.60 against raw's 2.00 at 32 is a collapse; 1.98 against 2.00 at 64 is within the slack
        assertThat(t).contains("at 32 over 8 threads at most 0.05 below raw XA's: 1.60 against 2.00 -> **missed**");
        assertThat(t).contains("at 64 over 8 threads at most 0.05 below raw XA's: 1.98 against 2.00 -> met");
        assertThat(t).contains("p99 of (e) <= 1.5x raw XA's p99: 1.25x -> met");
        assertThat(t).contains("JIT share < 5% in every cell: worst 8.0% -> **missed** in (e) xatm 2PC, tm-server process at 32 (8.0%)");
        assertThat(t).contains("tm-server live heap < 256 MiB at 64 threads: not measured");
    }

    @Test
    void with_repeats_each_cell_is_its_median_throughput_repeat() {
        List<CellResult> all = new ArrayList<>();
        all.add(cell("rawxa", 8, 900, 10, 0));
        all.add(cell("rawxa", 8, 1100, 30, 0));
        all.add(cell("rawxa", 8, 1000, 20, 0));
        all.add(CellResult.failed("rawxa", 32, "boom"));
        all.add(cell("rawxa", 32, 1500, 10, 0));
        all.add(cell("rawxa", 32, 1400, 10, 0));
        var table = Report.representative(all);
        assertThat(table.get("rawxa").get(8).tps()).isEqualTo(1000);
        assertThat(table.get("rawxa").get(8).num("lat.p99.ms")).isEqualTo(20);
        // the failed repeat counts as the lowest
        assertThat(table.get("rawxa").get(32).tps()).isEqualTo(1400);
    }
}
