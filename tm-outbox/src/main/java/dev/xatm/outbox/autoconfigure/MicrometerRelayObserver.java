package dev.xatm.outbox.autoconfigure;

import dev.xatm.outbox.relay.RelayObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.beans.factory.ObjectProvider;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * {@code xatm.outbox.relay.lag} (from the row's insert to the broker's confirm, by data source, with
 * percentiles), {@code xatm.outbox.sent} and {@code xatm.outbox.relay.failures}.
 * {@code xatm.outbox.pending} is a gauge registered by the auto-configuration.
 */
final class MicrometerRelayObserver implements RelayObserver {
    private final ObjectProvider<MeterRegistry> registryProvider;
    private volatile MeterRegistry registry;
    private final ConcurrentMap<String, Timer> lag = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> sent = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> failures = new ConcurrentHashMap<>();

    MicrometerRelayObserver(ObjectProvider<MeterRegistry> registry) {
        this.registryProvider = registry;
    }

    /** Looked up at first use: the registry's auto-configuration may come after ours. */
    private MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = registryProvider.getIfAvailable(io.micrometer.core.instrument.simple.SimpleMeterRegistry::new);
            registry = r;
        }
        return r;
    }

    @Override
    public void sent(String dataSource, long lagMillis) {
        lag.computeIfAbsent(dataSource, ds -> Timer.builder("xatm.outbox.relay.lag")
                .description("time from the outbox insert to the broker's confirm")
                .tag("data.source", ds).publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                .register(registry())).record(Duration.ofMillis(lagMillis));
        sent.computeIfAbsent(dataSource, ds -> Counter.builder("xatm.outbox.sent").tag("data.source", ds).register(registry())).increment();
    }

    @Override
    public void failed(String dataSource, Exception e) {
        failures.computeIfAbsent(dataSource, ds -> Counter.builder("xatm.outbox.relay.failures").tag("data.source", ds)
                .register(registry())).increment();
    }
}
