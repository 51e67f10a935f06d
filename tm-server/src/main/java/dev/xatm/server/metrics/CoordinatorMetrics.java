package dev.xatm.server.metrics;

import dev.xatm.server.engine.CoordinatorLoop;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The coordinator's Micrometer meters (served at {@code /actuator/prometheus}):
 * <ul>
 *   <li>{@code xatm.coordinator.transactions.live{protocol, phase}}: unfinished transactions per protocol
 *       step (2PC ACTIVE, PREPARE, COMMIT, ROLLBACK; 3PC ACTIVE, CAN_COMMIT, PRE_COMMIT, DO_COMMIT, ABORT;
 *       ONE_PHASE for either);</li>
 *   <li>{@code xatm.coordinator.participant.decisions{outcome}}: 3PC branches whose participant decided
 *       on its own after a timeout, as reported to this server.</li>
 * </ul>
 * The phase counts are computed on the coordinator's own thread (its state is not thread-safe), at most
 * once per {@link #REFRESH_MILLIS}, however many gauges a scrape reads.
 */
public final class CoordinatorMetrics implements MeterBinder {
    static final long REFRESH_MILLIS = 1_000;
    private static final long QUERY_WAIT_MILLIS = 500;
    private static final Logger log = LoggerFactory.getLogger(CoordinatorMetrics.class);
    private static final Map<String, List<String>> PHASES = Map.of(
            "2PC", List.of("ACTIVE", "PREPARE", "ONE_PHASE", "COMMIT", "ROLLBACK"),
            "3PC", List.of("ACTIVE", "CAN_COMMIT", "PRE_COMMIT", "ONE_PHASE", "DO_COMMIT", "ABORT"));

    private final CoordinatorLoop loop;
    private volatile Map<String, Integer> counts = Map.of();
    private long refreshedAtNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS);

    public CoordinatorMetrics(CoordinatorLoop loop) {
        this.loop = loop;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        PHASES.forEach((protocol, phases) -> {
            for (String phase : phases) {
                String key = protocol + "/" + phase;
                Gauge.builder("xatm.coordinator.transactions.live", this, m -> m.count(key))
                        .description("Unfinished global transactions in this protocol step")
                        .tag("protocol", protocol).tag("phase", phase)
                        .register(registry);
            }
        });
        FunctionCounter.builder("xatm.coordinator.participant.decisions", loop, CoordinatorLoop::participantCommits)
                .description("3PC branches whose participant decided on its own when its timer ran out")
                .tag("outcome", "commit").register(registry);
        FunctionCounter.builder("xatm.coordinator.participant.decisions", loop, CoordinatorLoop::participantRollbacks)
                .description("3PC branches whose participant decided on its own when its timer ran out")
                .tag("outcome", "rollback").register(registry);
    }

    private double count(String key) {
        refreshIfStale();
        return counts.getOrDefault(key, 0);
    }

    /**
     * A scrape reads all gauges at once: the first one refreshes the copy, waiting briefly for the loop;
     * a busy loop makes the scrape show the previous copy rather than wait.
     */
    private synchronized void refreshIfStale() {
        if (System.nanoTime() - refreshedAtNanos < TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS)) {
            return;
        }
        refreshedAtNanos = System.nanoTime();
        try {
            counts = Map.copyOf(loop.query(views -> views.liveByProtocolAndPhase()).get(QUERY_WAIT_MILLIS, TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.debug("Phase counts not refreshed: {}", e.toString());
        }
    }
}
