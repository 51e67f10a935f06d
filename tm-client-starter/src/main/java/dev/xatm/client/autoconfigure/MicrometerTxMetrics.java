package dev.xatm.client.autoconfigure;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.agent.AgentListener;
import dev.xatm.client.support.TxMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.beans.factory.ObjectProvider;

import java.util.concurrent.TimeUnit;

/**
 * Micrometer meters: {@code tm.client.transactions} counters tagged {@code event=begun|committed|
 * rolled_back|timed_out|heuristic_hazard} and {@code protocol=2PC|3PC}, {@code tm.client.phase.latency}
 * timers tagged with the phase (commit / rollback requests, and the agent's prepare / commit /
 * rollback / commit_one_phase / can_commit / pre_commit XA work), {@code tm.client.heuristic} for
 * heuristic branch outcomes, and {@code tm.client.participant.decisions} tagged
 * {@code outcome=commit|rollback} for 3PC branches this instance decided on its own when a
 * participant timer ran out; {@code xatm.client.recovery.sweeps} counts recovery sweeps and
 * {@code xatm.client.recovery.settled} (tagged {@code source=sweep|in_doubt}) the prepared branches
 * finished by xid on a fresh connection ({@link RecoveryMeters} has the in-doubt gauges). The registry is looked up on first use, so metrics work whatever order
 * the auto-configurations run in.
 */
final class MicrometerTxMetrics implements TxMetrics, AgentListener {
    private final ObjectProvider<MeterRegistry> registry;

    MicrometerTxMetrics(ObjectProvider<MeterRegistry> registry) {
        this.registry = registry;
    }

    private MeterRegistry registry() {
        return registry.getIfAvailable();
    }

    private void count(String event, CommitProtocol protocol) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("tm.client.transactions", "event", event, "protocol", protocol.tag()).increment();
        }
    }

    @Override
    public void begun(CommitProtocol protocol) {
        count("begun", protocol);
    }

    @Override
    public void ended(GlobalOutcome outcome, CommitProtocol protocol) {
        count(outcome.name().toLowerCase(java.util.Locale.ROOT), protocol);
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
    public void decidedOnItsOwn(String outcome) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("tm.client.participant.decisions", "outcome", outcome).increment();
        }
    }

    @Override
    public void recoverySweep() {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("xatm.client.recovery.sweeps").increment();
        }
    }

    @Override
    public void settledByRecovery(String source) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("xatm.client.recovery.settled", "source", source).increment();
        }
    }

    @Override
    public void heuristic(String xid) {
        MeterRegistry r = registry();
        if (r != null) {
            r.counter("tm.client.heuristic").increment();
        }
    }
}
