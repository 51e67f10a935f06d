package dev.xatm.server.metrics;

import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.engine.AgentRefusals;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.engine.DecisionCounts;
import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.coordinator.log.TxnLog;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;
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
 *       on its own after a timeout, as reported to this server;</li>
 *   <li>{@code xatm.coordinator.agent.refusals{kind}}: an agent spoke for another: a vote or ack for a
 *       branch it does not hold, or a Hello, RegisterBranch or commit with votes naming an agent id whose
 *       live stream another process opened (kind vote, ack, hello, register, commit); never from an
 *       honest agent;</li>
 *   <li>{@code xatm.coordinator.decisions{outcome, protocol}}: transactions this coordinator decided
 *       ({@code committed}, {@code rolled_back}, {@code timed_out}, {@code heuristic_hazard}), once each;</li>
 *   <li>{@code xatm.coordinator.transactions.in-doubt}: decided transactions whose outcome has not reached
 *       every branch within {@code tm.server.in-doubt-after-ms} (the admin API's in-doubt list);</li>
 *   <li>{@code xatm.coordinator.agents.connected}: agent streams open now;</li>
 *   <li>{@code xatm.cluster.members}: servers holding a live lease on the shared JDBC store (0 on a file log);</li>
 *   <li>file log: {@code xatm.log.append} (timer: hand-over to written, and synced when asked),
 *       {@code xatm.log.fsync} (timer), {@code xatm.log.batches} and {@code xatm.log.records} (counters;
 *       appends per batch is {@code xatm.log.append} count over {@code xatm.log.batches}).</li>
 * </ul>
 * All are read from counters the engine keeps anyway ({@link FunctionCounter}, {@link FunctionTimer}):
 * nothing is recorded per transaction on Micrometer's side. The phase and in-doubt counts are computed on the coordinator's own thread (its state is not thread-safe), at most
 * once per {@link #REFRESH_MILLIS}, however many gauges a scrape reads.
 */
public final class CoordinatorMetrics implements MeterBinder {
    static final long REFRESH_MILLIS = 1_000;
    private static final long QUERY_WAIT_MILLIS = 500;
    /** The in-doubt gauge counts up to this many: beyond it an operator has bigger problems than the exact number. */
    static final int IN_DOUBT_COUNT_MAX = 10_000;
    private static final Logger log = LoggerFactory.getLogger(CoordinatorMetrics.class);
    private static final Map<String, List<String>> PHASES = Map.of(
            "2PC", List.of("ACTIVE", "PREPARE", "ONE_PHASE", "COMMIT", "ROLLBACK"),
            "3PC", List.of("ACTIVE", "CAN_COMMIT", "PRE_COMMIT", "ONE_PHASE", "DO_COMMIT", "ABORT"));

    private final CoordinatorLoop loop;
    private final TxnLog txnLog;
    private final Cluster cluster;
    private final long inDoubtAfterMillis;
    private volatile Map<String, Integer> counts = Map.of();
    private volatile int inDoubt;
    private long refreshedAtNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS);

    public CoordinatorMetrics(CoordinatorLoop loop, TxnLog txnLog, Cluster cluster, long inDoubtAfterMillis) {
        this.loop = loop;
        this.txnLog = txnLog;
        this.cluster = cluster;
        this.inDoubtAfterMillis = inDoubtAfterMillis;
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
        AgentRefusals refusals = loop.agentRefusals();
        for (AgentRefusals.Kind kind : AgentRefusals.Kind.values()) {
            FunctionCounter.builder("xatm.coordinator.agent.refusals", refusals, r -> r.count(kind))
                    .description("Votes, acks, Hellos, branch registrations and commits with votes refused because an agent"
                            + " spoke for a branch or an agent id not its own")
                    .tag("kind", kind.name().toLowerCase(Locale.ROOT)).register(registry);
        }
        DecisionCounts decisions = loop.decisions();
        for (Outcome outcome : Outcome.values()) {
            for (Protocol protocol : Protocol.values()) {
                FunctionCounter.builder("xatm.coordinator.decisions", decisions, d -> d.count(outcome, protocol))
                        .description("Global transactions this coordinator decided, by outcome")
                        .tag("outcome", outcome.name().toLowerCase(Locale.ROOT)).tag("protocol", protocol.label)
                        .register(registry);
            }
        }
        Gauge.builder("xatm.coordinator.transactions.in-doubt", this, m -> m.inDoubtCount())
                .description("Decided transactions whose outcome has not reached every branch in time")
                .register(registry);
        Gauge.builder("xatm.coordinator.agents.connected", loop, l -> l.snapshot().connectedAgents())
                .description("Agent streams open now").register(registry);
        Gauge.builder("xatm.cluster.members", cluster, c -> c.members().size())
                .description("Servers holding a live lease on the shared store (0: a file log, no cluster)").register(registry);
        if (txnLog instanceof FileTxnLog file) {
            FunctionTimer.builder("xatm.log.append", file, FileTxnLog::appends, FileTxnLog::appendNanos, TimeUnit.NANOSECONDS)
                    .description("Log appends, from hand-over to written (and synced when the append asked)").register(registry);
            FunctionTimer.builder("xatm.log.fsync", file, FileTxnLog::fsyncs, FileTxnLog::fsyncNanos, TimeUnit.NANOSECONDS)
                    .description("Data fsyncs of the transaction log").register(registry);
            FunctionCounter.builder("xatm.log.batches", file, FileTxnLog::batches)
                    .description("Group commits: appends written together with one write").register(registry);
            FunctionCounter.builder("xatm.log.records", file, FileTxnLog::recordsWritten)
                    .description("Records written to the transaction log").register(registry);
        }
    }

    private double inDoubtCount() {
        refreshIfStale();
        return inDoubt;
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
            inDoubt = loop.query(views -> views.inDoubt(inDoubtAfterMillis, IN_DOUBT_COUNT_MAX).size())
                    .get(QUERY_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.debug("Phase counts not refreshed: {}", e.toString());
        }
    }
}
