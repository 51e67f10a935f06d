package dev.xatm.server.metrics;

import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.log.TxnLog;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers the coordinator's meters with whatever MeterRegistry actuator provides (Prometheus here), and its decision observations. */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    CoordinatorMetrics coordinatorMetrics(CoordinatorLoop loop, TxnLog txnLog, Cluster cluster,
                                          @Value("${tm.server.in-doubt-after-ms:60000}") long inDoubtAfterMillis) {
        return new CoordinatorMetrics(loop, txnLog, cluster, inDoubtAfterMillis);
    }

    /** A decision observation per decision, when Spring Boot provides an ObservationRegistry (actuator does). */
    @Bean
    DecisionObservations decisionObservations(CoordinatorLoop loop, ObjectProvider<ObservationRegistry> registry) {
        DecisionObservations observations = new DecisionObservations(registry.getIfAvailable(() -> ObservationRegistry.NOOP));
        loop.decisions().listen(observations);
        return observations;
    }
}
