package dev.xatm.server.metrics;

import dev.xatm.server.cluster.Cluster;
import dev.xatm.server.engine.CoordinatorLoop;
import dev.xatm.server.log.TxnLog;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers the coordinator's meters with whatever MeterRegistry actuator provides (Prometheus here). */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    CoordinatorMetrics coordinatorMetrics(CoordinatorLoop loop, TxnLog txnLog, Cluster cluster,
                                          @Value("${tm.server.in-doubt-after-ms:60000}") long inDoubtAfterMillis) {
        return new CoordinatorMetrics(loop, txnLog, cluster, inDoubtAfterMillis);
    }
}
