package dev.xatm.bench.measure;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WarmupPlanTest {
    private final WarmupPlan plan = new WarmupPlan(15_000, 120_000, 5_000);

    @Test
    void never_ends_before_the_minimum_even_when_settled() {
        assertThat(plan.done(10_000, 0.0)).isFalse();
        assertThat(plan.done(15_000, 0.0)).isTrue();
    }

    @Test
    void goes_on_while_the_compiler_threads_use_five_percent_or_more() {
        assertThat(plan.done(15_000, 0.05)).isFalse();
        assertThat(plan.done(20_000, 0.049)).isTrue();
    }

    @Test
    void ends_at_the_maximum_whether_settled_or_not() {
        assertThat(plan.done(120_000, 0.30)).isTrue();
        assertThat(plan.done(115_000, 0.30)).isFalse();
    }

    @Test
    void an_unknown_share_does_not_count_as_settled() {
        assertThat(plan.done(15_000, Double.NaN)).isFalse();
    }

    @Test
    void slices_end_exactly_at_the_minimum_and_at_the_maximum() {
        WarmupPlan short_ = new WarmupPlan(3_000, 12_000, 5_000);
        assertThat(short_.nextSliceMs(0)).isEqualTo(3_000);
        assertThat(short_.nextSliceMs(3_000)).isEqualTo(5_000);
        assertThat(short_.nextSliceMs(8_000)).isEqualTo(4_000);
        assertThat(plan.nextSliceMs(0)).isEqualTo(5_000);
        assertThat(plan.nextSliceMs(12_000)).isEqualTo(3_000);
    }

    @Test
    void a_maximum_below_the_minimum_is_raised_to_it() {
        WarmupPlan p = new WarmupPlan(20_000, 10_000, 5_000);
        assertThat(p.maxMs()).isEqualTo(20_000);
        assertThat(p.done(20_000, 0.5)).isTrue();
    }

    @Test
    void share_is_cpu_over_cores_times_wall_time() {
        // 1 s of compiler CPU in a 5 s slice on 2 cores: a tenth of the machine
        assertThat(WarmupPlan.share(1.0, 2, 5.0)).isEqualTo(0.1);
        assertThat(WarmupPlan.share(1.0, 2, 0)).isNaN();
    }

    @Test
    void a_window_that_compiled_is_measured_again_up_to_the_retries() {
        assertThat(WarmupPlan.measureAgain(0.083, 1, 2)).isTrue();
        assertThat(WarmupPlan.measureAgain(0.083, 2, 2)).isTrue();
        assertThat(WarmupPlan.measureAgain(0.083, 3, 2)).isFalse(); // three windows measured: keep the last
        assertThat(WarmupPlan.measureAgain(0.083, 1, 0)).isFalse();
    }

    @Test
    void a_quiet_or_unknown_window_is_kept() {
        assertThat(WarmupPlan.measureAgain(0.049, 1, 2)).isFalse();
        assertThat(WarmupPlan.measureAgain(0.05, 1, 2)).isTrue();
        assertThat(WarmupPlan.measureAgain(Double.NaN, 1, 2)).isFalse();
    }
}
