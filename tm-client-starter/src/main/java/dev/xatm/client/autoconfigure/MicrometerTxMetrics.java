package dev.xatm.client.autoconfigure;

import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.agent.AgentListener;
import dev.xatm.client.support.TxMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.beans.factory.ObjectProvider;

import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters: {@code tm.client.transactions} counters tagged {@code event=begun|committed|
 * rolled_back|timed_out|heuristic_hazard}, {@code tm.client.phase.latency} timers tagged with the
 * phase (commit / rollback requests, and the agent's prepare / commit / rollback / commit_one_phase
 * XA work), and {@code tm.client.heuristic} for heuristic branch outcomes. The registry is looked up
 * on first use, so metrics work whatever order the auto-configurations run in.
 */
final class MicrometerTxMetrics implements TxMetrics, AgentListener {
    private final ObjectProvider<MeterRegistry> registry;

    MicrometerTxMetrics(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    private MeterRegistry registry() {
        return registry.getIfAvailable();
    }

    private void count(String event) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("tm.client.transactions", "event", event).increment();
        }
    }

    @Override
    public void begun() {
        count("begun");
    }

    @Override
    public void ended(GlobalOutcome outcome) {
        count(outcome.name().toLowerCase());
    }

    @Override
    public void phaseLatency(String phase, long nanos) {
        MeterRegistry r = registry();
        if (r != null) {
            Timer.builder("tm.client.phase.latency").tag("phase", phase).register(r).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void commandExecuted(String action, String answer, long nanos) {
        phaseLatency("agent_" + action.toLowerCase(), nanos);
    }

    @Override
    public void heuristic(String xid) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("tm.client.heuristic").increment();
        }
    }
}
