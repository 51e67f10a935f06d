package dev.xatm.outbox.autoconfigure;

import dev.xatm.outbox.OutboxDataSources;
import dev.xatm.outbox.relay.Backoff;
import dev.xatm.outbox.relay.BrokerPublisher;
import dev.xatm.outbox.relay.Relay;
import dev.xatm.outbox.relay.RelayHook;
import dev.xatm.outbox.relay.RelayLoop;
import dev.xatm.outbox.relay.RelayObserver;
import dev.xatm.outbox.relay.RelayStatus;
import org.springframework.context.SmartLifecycle;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One relay loop per outbox data source, started with the application context (late: after the
 * data sources and the starter's agent) and stopped before them. Thread-safe.
 */
public final class OutboxRelays implements SmartLifecycle {
    private final List<RelayLoop> loops = new ArrayList<>();
    private final AutoCloseable onStop;
    private volatile boolean running;

    OutboxRelays(OutboxDataSources sources, BrokerPublisher publisher, OutboxProperties.Relay p, RelayHook hook,
                 RelayObserver observer, AutoCloseable onStop) {
        this.onStop = onStop;
        SplittableRandom seeds = new SplittableRandom();
        RelayLoop.Settings settings = new RelayLoop.Settings(p.getPollIntervalMs(), p.getCountIntervalMs(), p.getPurgeIntervalMs(),
                p.getRetentionSeconds());
        for (OutboxDataSources.Entry e : sources.all()) {
            Relay relay = new Relay(e.name(), e.dataSource(), e.store(), publisher, p.getBatchSize(), hook, observer);
            loops.add(new RelayLoop(relay, e.dataSource(), e.store(),
                    new Backoff(p.getBackoffInitialMs(), p.getBackoffMaxMs(), seeds.split()), settings));
        }
    }

    public List<RelayStatus> statuses() {
        return loops.stream().map(RelayLoop::status).toList();
    }

    @Override
    public void start() {
        loops.forEach(RelayLoop::start);
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        loops.forEach(RelayLoop::close);
        try {
            onStop.close();
        } catch (Exception ignored) {
            // shutting down: the broker connection goes with the process
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }
}
