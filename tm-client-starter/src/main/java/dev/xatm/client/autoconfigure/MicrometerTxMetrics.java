package dev.xatm.client.autoconfigure;

import dev.xatm.client.enlist.BranchCommand;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.agent.AgentListener;
import dev.xatm.client.context.Observed;
import dev.xatm.client.support.TxMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.beans.factory.ObjectProvider;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The starter's Micrometer meters, all under the {@code xatm.} prefix that tm-server uses too:
 * <ul>
 *   <li>{@code xatm.client.transactions.begun{protocol}}: global transactions begun here;</li>
 *   <li>{@code xatm.client.transactions{outcome, protocol}}: how they ended ({@code committed},
 *       {@code rolled_back}, {@code timed_out}, {@code heuristic_hazard}), counted apart from begins
 *       so that a rate of outcomes never mixes with a rate of starts;</li>
 *   <li>{@code xatm.client.commit} and {@code xatm.client.rollback}: timers of the coordinator round trip
 *       that commits or rolls back a global transaction;</li>
 *   <li>{@code xatm.branch.prepare}, {@code .commit}, {@code .rollback}, {@code .commit-one-phase},
 *       {@code .can-commit}, {@code .pre-commit}: timers of the agent's XA work on one branch;</li>
 *   <li>{@code xatm.client.heuristic}: heuristic branch outcomes;
 *       {@code xatm.client.participant.decisions{outcome}}: 3PC branches this instance decided on its
 *       own when a participant timer ran out;</li>
 *   <li>{@code xatm.client.recovery.sweeps} and {@code xatm.client.recovery.settled{source}}
 *       ({@link RecoveryMeters} has the in-doubt gauges).</li>
 * </ul>
 * The registries are looked up on first use, so metrics work whatever order the auto-configurations run
 * in, and kept once found. Meters are registered once and kept in maps keyed by constants (enum values, enum names), so a
 * transaction builds no strings and registers nothing. Thread-safe.
 */
final class MicrometerTxMetrics implements TxMetrics, AgentListener {
    /** Timer names by what they time: the agent's commands (BranchCommand names) and the coordinator round trips. */
    static final Map<String, String> TIMERS = Map.of(
            "PREPARE", "xatm.branch.prepare",
            "COMMIT", "xatm.branch.commit",
            "ROLLBACK", "xatm.branch.rollback",
            "COMMIT_ONE_PHASE", "xatm.branch.commit-one-phase",
            "CAN_COMMIT", "xatm.branch.can-commit",
            "PRE_COMMIT", "xatm.branch.pre-commit",
            "commit", "xatm.client.commit",
            "rollback", "xatm.client.rollback");

    /**
     * Observation names, apart from the timers above: with Spring Boot's meter handler an observation
     * also registers a timer of its own name, which must not collide with ours.
     */
    static final Map<String, String> OBSERVATIONS = Map.of(
            "transaction", "xatm.transaction",
            "begin", "xatm.transaction.begin",
            "commit", "xatm.transaction.commit",
            "rollback", "xatm.transaction.rollback");
    static final String BRANCH_OBSERVATION = "xatm.transaction.branch";

    private final ObjectProvider<MeterRegistry> registryProvider;
    private final ObjectProvider<ObservationRegistry> observations;
    private final Map<Object, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    /** The observation registry once found: a bean lookup per observation cost more than the observation's bookkeeping. */
    private volatile ObservationRegistry observationRegistry;

    MicrometerTxMetrics(ObjectProvider<MeterRegistry> registryProvider, ObjectProvider<ObservationRegistry> observations) {
        this.registryProvider = registryProvider;
        this.observations = observations;
    }

    /** The application's registry, looked up until there is one (a singleton, so kept once found). */
    private ObservationRegistry observationRegistry() {
        ObservationRegistry r = observationRegistry;
        if (r == null) {
            r = observations.getIfAvailable();
            observationRegistry = r;
        }
        return r;
    }

    @Override
    public Observed observe(String what, String gtrid, CommitProtocol protocol) {
        ObservationRegistry r = observationRegistry();
        if (r == null || r.isNoop()) {
            return Observed.NONE;
        }
        Observation o = Observation.createNotStarted(OBSERVATIONS.get(what), r)
                .contextualName(CONTEXTUAL_NAMES.get(what))
                .lowCardinalityKeyValue("protocol", protocol.tag())
                .highCardinalityKeyValue("xatm.xid", gtrid);
        return open(o);
    }

    /** One branch's XA command, a child of the current observation when it runs on the caller's thread. */
    @Override
    public Observed observe(String action, String gtrid) {
        ObservationRegistry r = observationRegistry();
        if (r == null || r.isNoop()) {
            return Observed.NONE;
        }
        String command = BRANCH_COMMANDS.getOrDefault(action, "other");
        Observation o = Observation.createNotStarted(BRANCH_OBSERVATION, r)
                .contextualName(BRANCH_CONTEXTUAL_NAMES.getOrDefault(action, "xatm branch"))
                .lowCardinalityKeyValue("command", command)
                .highCardinalityKeyValue("xatm.xid", gtrid);
        return open(o);
    }

    private static Observed open(Observation o) {
        o.start();
        Observation.Scope scope = o.openScope();
        return new Observed() {
            @Override
            public void failed(Throwable error) {
                o.error(error);
            }

            @Override
            public void close() {
                scope.close();
                o.stop();
            }
        };
    }

    private static final Map<String, String> CONTEXTUAL_NAMES = Map.of(
            "transaction", "xatm transaction", "begin", "xatm begin", "commit", "xatm commit", "rollback", "xatm rollback");
    /** The {@code command} tag of a branch observation, per BranchCommand name (no string built per call). */
    private static final Map<String, String> BRANCH_COMMANDS = Map.of(
            "PREPARE", "prepare",
            "COMMIT", "commit",
            "ROLLBACK", "rollback",
            "COMMIT_ONE_PHASE", "commit-one-phase",
            "CAN_COMMIT", "can-commit",
            "PRE_COMMIT", "pre-commit");

    private static final Map<String, String> BRANCH_CONTEXTUAL_NAMES = Map.of(
            "PREPARE", "xatm branch prepare", "COMMIT", "xatm branch commit", "ROLLBACK", "xatm branch rollback",
            "COMMIT_ONE_PHASE", "xatm branch commit-one-phase", "CAN_COMMIT", "xatm branch can-commit",
            "PRE_COMMIT", "xatm branch pre-commit");

    private record OutcomeKey(GlobalOutcome outcome, CommitProtocol protocol) {}

    @Override
    public void begun(CommitProtocol protocol) {
        Counter c = counter(protocol, r -> Counter.builder("xatm.client.transactions.begun")
                .description("Global transactions begun by this application")
                .tag("protocol", protocol.tag()).register(r));
        if (c != null) {
            c.increment();
        }
    }

    @Override
    public void ended(GlobalOutcome outcome, CommitProtocol protocol) {
        Counter c = counter(new OutcomeKey(outcome, protocol), r -> Counter.builder("xatm.client.transactions")
                .description("Global transactions begun by this application, by how they ended")
                .tag("outcome", outcome.name().toLowerCase(Locale.ROOT)).tag("protocol", protocol.tag()).register(r));
        if (c != null) {
            c.increment();
        }
    }

    /** {@code phase} is "commit" or "rollback": the coordinator round trip that ends a transaction. */
    @Override
    public void phaseLatency(String phase, long nanos) {
        record(phase, "Coordinator round trip that ends a global transaction", nanos);
    }

    @Override
    public void commandExecuted(String action, String answer, long nanos) {
        record(action, "XA work of one branch for a coordinator command", nanos);
    }

    private void record(String key, String description, long nanos) {
        Timer t = timers.get(key);
        if (t == null) {
            MeterRegistry r = registryProvider.getIfAvailable();
            String name = TIMERS.get(key);
            if (r == null || name == null) {
                return;
            }
            t = timers.computeIfAbsent(key, k -> Timer.builder(name).description(description).register(r));
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void decidedOnItsOwn(String outcome) {
        increment("decided:" + outcome, r -> Counter.builder("xatm.client.participant.decisions")
                .description("3PC branches this instance decided on its own when a participant timer ran out")
                .tag("outcome", outcome).register(r));
    }

    @Override
    public void recoverySweep() {
        increment("sweeps", r -> Counter.builder("xatm.client.recovery.sweeps")
                .description("Recovery sweeps (XA RECOVER on every resource)").register(r));
    }

    @Override
    public void settledByRecovery(String source) {
        increment("settled:" + source, r -> Counter.builder("xatm.client.recovery.settled")
                .description("Prepared branches finished by xid on a fresh connection")
                .tag("source", source).register(r));
    }

    @Override
    public void heuristic(String xid) {
        increment("heuristic", r -> Counter.builder("xatm.client.heuristic")
                .description("Branches that ended with a heuristic outcome").register(r));
    }

    /** For rare events only (the key may be built per call). */
    private void increment(String key, java.util.function.Function<MeterRegistry, Counter> create) {
        Counter c = counter(key, create);
        if (c != null) {
            c.increment();
        }
    }

    private Counter counter(Object key, java.util.function.Function<MeterRegistry, Counter> create) {
        Counter c = counters.get(key);
        if (c != null) {
            return c;
        }
        MeterRegistry r = registryProvider.getIfAvailable();
        return r == null ? null : counters.computeIfAbsent(key, k -> create.apply(r));
    }
}
