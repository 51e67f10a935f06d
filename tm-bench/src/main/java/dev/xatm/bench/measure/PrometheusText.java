package dev.xatm.bench.measure;

import java.util.LinkedHashMap;
import java.util.Map;

/** The few samples the benchmark reads from tm-server's Prometheus text exposition. */
final class PrometheusText {
    private PrometheusText() {
    }

    /**
     * {@code records} from {@code xatm_log_records_total} and {@code fsyncs} from
     * {@code xatm_log_fsync_seconds_count}, each summed over its label sets; a counter that is
     * absent is left out.
     */
    static Map<String, Long> logCounters(String text) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            String key = line.startsWith("xatm_log_records_total") ? "records"
                    : line.startsWith("xatm_log_fsync_seconds_count") ? "fsyncs" : null;
            if (key == null) {
                continue;
            }
            String name = line.split("[{ ]", 2)[0];
            if (!name.equals("xatm_log_records_total") && !name.equals("xatm_log_fsync_seconds_count")) {
                continue;
            }
            String value = line.substring(line.lastIndexOf(' ') + 1).trim();
            out.merge(key, (long) Double.parseDouble(value), Long::sum);
        }
        return out;
    }
}
