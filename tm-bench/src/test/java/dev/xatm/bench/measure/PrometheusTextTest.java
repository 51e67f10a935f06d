package dev.xatm.bench.measure;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PrometheusTextTest {

    @Test
    void reads_the_file_logs_records_and_fsync_count() {
        String text = """
                # HELP xatm_log_fsync_seconds Data fsyncs of the transaction log
                # TYPE xatm_log_fsync_seconds summary
                xatm_log_fsync_seconds_count{application="tm-server"} 1234.0
                xatm_log_fsync_seconds_sum{application="tm-server"} 2.5
                # TYPE xatm_log_records_total counter
                xatm_log_records_total 5678.0
                xatm_log_records_total_other 1.0
                """;
        assertThat(PrometheusText.logCounters(text)).containsOnly(
                java.util.Map.entry("fsyncs", 1234L), java.util.Map.entry("records", 5678L));
    }

    @Test
    void sums_label_sets_and_leaves_out_what_is_absent() {
        String text = "xatm_log_records_total{a=\"1\"} 2.0\nxatm_log_records_total{a=\"2\"} 3.0\njvm_threads_live 40.0\n";
        assertThat(PrometheusText.logCounters(text)).containsOnly(java.util.Map.entry("records", 5L));
    }
}
