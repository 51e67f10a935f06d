package dev.xatm.server.metrics;

import dev.xatm.server.engine.CoordinatorLoop;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Registers the coordinator's meters with whatever MeterRegistry actuator provides (Prometheus here). */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    @Bean
    CoordinatorMetrics coordinatorMetrics(CoordinatorLoop loop) {
        return new CoordinatorMetrics(loop);
    }
}
