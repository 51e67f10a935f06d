package dev.xatm.core.sim;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

/**
 * Thousands of seeded random runs of the whole system (see {@link SimWorld}). Each seed is a
 * different deployment, workload and fault schedule; the invariants are checked after every step
 * and liveness once faults stop.
 *
 * <pre>
 * mvn -pl tm-core test -Dtest=SimulationTest                          # the CI default: 2000 seeds
 * mvn -pl tm-core test -Dtest=SimulationTest -Dtm.sim.seeds=100000    # more
 * mvn -pl tm-core test -Dtest=SimulationTest -Dtm.sim.firstSeed=5000  # other seeds
 * mvn -pl tm-core test -Dtest=SimulationTest -Dtm.sim.seed=1234       # replay one
 * mvn -pl tm-core test -Dtest=SimulationTest -Dtm.sim.seed=1234 -Dtm.sim.trace=true
 * </pre>
 */
class SimulationTest {

    @Test
    void randomRunsKeepEveryInvariantAndBecomeQuietAfterHealing() {
        Map<String, Integer> totals = runSeeds("SimulationTest", 2_000, SimWorld::new);
        if (System.getProperty("tm.sim.seed") == null) {
            org.assertj.core.api.Assertions.assertThat(totals.getOrDefault("foreign votes and acks refused", 0))
                    .as("the foreign-agent fault was exercised and refused").isPositive();
        }
    }

    /**
     * Random runs where clients mix TWO_PHASE and THREE_PHASE transactions ({@link SimOptions#threePhase}).
     * Faults: crash-stop and crash-recovery of agents (with their databases) and of the coordinator
     * (losing or tearing unsynced log appends), delayed, reordered and duplicated messages. No
     * partitions and no message loss: with either, 3PC cannot be atomic, which
     * {@link ThreePhasePartitionHazardTest} shows on purpose. The same invariants as the 2PC runs hold
     * after every step (above all: no branch committed while another branch of the same transaction
     * rolled back, a 3PC participant that committed on its own included), and the run must become quiet
     * after healing.
     *
     * <p>What the model needs, and why it is narrowed so (3PC's safety is a timing argument):
     * <ul>
     *   <li>Message delays (at most 8 ticks) and the coordinator's downtime (at most 40 ticks, plus at
     *       most 5 for the agents to reconnect) stay well below the margin
     *       {@code participantPreCommitMillis - preCommitMillis} (150..300 ticks): the coordinator's
     *       ROLLBACK, or its resent PRE_COMMIT after a restart, must reach a prepared participant before
     *       that participant's timer commits.</li>
     *   <li>An agent's downtime is bounded the same way (at most 40 ticks). A coordinator restored in
     *       PRE_COMMIT has no answer deadline and waits for every branch (a participant may have
     *       committed on its own); if an agent whose branch was not yet prepared stayed down longer than
     *       a prepared participant's timer, that participant would commit on its own while the
     *       lost, unprepared branch can only answer NO. No rule of the coordinator can prevent that
     *       without giving up the other case (a restored coordinator that aborted on a deadline would
     *       contradict a participant that already committed during a long coordinator outage), so the
     *       agents' crash-recovery, like the coordinator's, must be faster than the margin.</li>
     * </ul>
     *
     * <pre>
     * mvn -pl tm-core test -Dtest=SimulationTest#threePhaseRunsKeepAtomicityWithoutPartitions
     * mvn -pl tm-core test -Dtest=SimulationTest#threePhaseRunsKeepAtomicityWithoutPartitions -Dtm.sim.seeds=20000
     * mvn -pl tm-core test -Dtest=SimulationTest#threePhaseRunsKeepAtomicityWithoutPartitions -Dtm.sim.seed=1234 -Dtm.sim.trace=true
     * </pre>
     */
    @Test
    void threePhaseRunsKeepAtomicityWithoutPartitions() {
        Map<String, Integer> totals = runSeeds("SimulationTest (3PC mixed)", 2_000, SimWorld::threePhase);
        if (System.getProperty("tm.sim.seed") == null) {
            org.assertj.core.api.Assertions.assertThat(totals.getOrDefault("foreign votes and acks refused", 0))
                    .as("the foreign-agent fault was exercised and refused").isPositive();
            org.assertj.core.api.Assertions.assertThat(totals.getOrDefault("3PC PRE_COMMIT answers brought by their holder", 0))
                    .as("the application's own 3PC path ran to its second request").isPositive();
            org.assertj.core.api.Assertions.assertThat(totals.getOrDefault(
                    "3PC PRE_COMMIT on the stream for a holder's branch (its answers did not come)", 0))
                    .as("and its fallback to the stream after a lost answer").isPositive();
        }
    }

    /**
     * Two deployments whose agents share their databases, as two deployments on one MariaDB server do
     * ({@link SimWorld#runTwoClusters}): no seed ever has an agent finish the other deployment's branch,
     * and in the seeds whose agents ask about everything, the coordinators refused those inquiries.
     *
     * mvn -pl tm-core test -Dtest=SimulationTest#twoClustersSharingDatabasesNeverFinishEachOthersBranches -Dtm.sim.seeds=5000
     */
    @Test
    void twoClustersSharingDatabasesNeverFinishEachOthersBranches() {
        String one = System.getProperty("tm.sim.seed");
        long first = one != null ? Long.parseLong(one) : Long.getLong("tm.sim.firstSeed", 0);
        long count = one != null ? 1 : Long.getLong("tm.sim.seeds", 500);
        Map<String, Integer> totals = new TreeMap<>();
        for (long seed = first; seed < first + count; seed++) {
            for (SimWorld w : SimWorld.runTwoClusters(seed)) {
                w.stats().forEach((k, v) -> totals.merge(k, v, Integer::sum));
            }
        }
        System.out.printf("SimulationTest (two clusters): %d seeds from %d%n", count, first);
        totals.forEach((k, v) -> System.out.printf("  %-70s %d%n", k, v));
        if (one == null) {
            org.assertj.core.api.Assertions.assertThat(totals.getOrDefault("inquiries about another cluster's branch refused", 0))
                    .as("the coordinators' refusal was exercised").isPositive();
        }
    }

    private static Map<String, Integer> runSeeds(String label, long defaultSeeds, java.util.function.LongFunction<SimWorld> worlds) {
        String one = System.getProperty("tm.sim.seed");
        long first = one != null ? Long.parseLong(one) : Long.getLong("tm.sim.firstSeed", 0);
        long count = one != null ? 1 : Long.getLong("tm.sim.seeds", defaultSeeds);
        Map<String, Integer> totals = new TreeMap<>();
        long started = System.nanoTime();
        long slowestQuiet = 0;
        long slowestSeed = first;
        for (long seed = first; seed < first + count; seed++) {
            SimWorld world = worlds.apply(seed);
            world.run();
            world.stats().forEach((k, v) -> totals.merge(k, v, Integer::sum));
            if (world.ticksToQuiet() > slowestQuiet) {
                slowestQuiet = world.ticksToQuiet();
                slowestSeed = seed;
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("%s: %d seeds from %d in %d ms; slowest to quiet after healing: %d ticks (seed %d)%n",
                label, count, first, millis, slowestQuiet, slowestSeed);
        totals.forEach((k, v) -> System.out.printf("  %-70s %d%n", k, v));
        return totals;
    }
}
