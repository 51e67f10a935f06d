package dev.xatm.client.autoconfigure;

import dev.xatm.client.agent.Agent;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Gauges of the branches this instance holds in doubt (their XA call lost its answer; the agent
 * finishes them by xid): {@code xatm.client.branches.in-doubt} (how many) and
 * {@code xatm.client.branches.in-doubt.oldest} (age of the oldest, seconds). A value that keeps
 * growing means a database does not let go of a prepared branch: worth an alert.
 */
final class RecoveryMeters implements MeterBinder {
    private final Agent agent;

    RecoveryMeters(Agent agent) {
        this.agent = agent;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("xatm.client.branches.in-doubt", agent, Agent::inDoubtCount)
                .description("Branches whose XA call lost its answer, being finished by xid on a fresh connection")
                .register(registry);
        Gauge.builder("xatm.client.branches.in-doubt.oldest", agent, a -> a.oldestInDoubtMillis() / 1000.0)
                .description("Age of the oldest in-doubt branch")
                .baseUnit("seconds")
                .register(registry);
    }
}
