package dev.xatm.coordinator.engine;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The "coordinator" health component: UP while the loop thread runs, ticks, and the log has neither
 * failed nor stalled (an append waiting past {@code tm.server.log.stall-timeout}). Shows counts and
 * states only: no gtrids, agent ids or tokens.
 */
public final class CoordinatorHealthIndicator implements HealthIndicator {
    private final CoordinatorLoop loop;
    /** A loop that has not ticked for this long is stuck (a tick is due every tick-ms). */
    private final long stalledAfterMillis;

    public CoordinatorHealthIndicator(CoordinatorLoop loop, long tickMillis) {
        this.loop = loop;
        this.stalledAfterMillis = Math.max(5_000, 20 * tickMillis);
    }

    @Override
    public Health health() {
        CoordinatorLoop.Snapshot s = loop.snapshot();
        boolean stalled = s.millisSinceLastTick() > stalledAfterMillis;
        Health.Builder health = s.running() && !s.failed() && !s.logFailed() && !stalled && !s.storeStalled() ? Health.up() : Health.down();
        return health
                .withDetail("loopAlive", s.running() && !stalled)
                .withDetail("logFailed", s.logFailed())
                // UNAVAILABLE: the log's oldest append waited past tm.server.log.stall-timeout; new work is refused
                .withDetail("store", s.logFailed() ? "FAILED" : s.storeStalled() ? "UNAVAILABLE" : "UP")
                .withDetail("storePendingMillis", s.storePendingMillis())
                .withDetail("millisSinceLastTick", s.millisSinceLastTick())
                .withDetail("liveTransactions", s.liveTransactions())
                .withDetail("waitingCallers", s.waitingCallers())
                .withDetail("queuedRequests", s.queuedRequests())
                .withDetail("connectedAgents", s.connectedAgents())
                .build();
    }
}
