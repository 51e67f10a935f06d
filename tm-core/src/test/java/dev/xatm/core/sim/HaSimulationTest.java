package dev.xatm.core.sim;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Thousands of seeded runs of several coordinator nodes on one shared store ({@link SimCluster}):
 * frozen nodes that wake with a stale epoch, crashes, takeovers racing commits and inquiries, with agents
 * that run the real participant core ({@link ClusterAgents}). Each
 * seed is a different cluster, workload and fault schedule; the invariants are checked as things
 * happen and convergence once faults stop.
 *
 * <pre>
 * ./mvnw -pl tm-core test -Dtest=HaSimulationTest                          # the CI default: 2000 seeds
 * ./mvnw -pl tm-core test -Dtest=HaSimulationTest -Dtm.sim.seeds=50000     # more
 * ./mvnw -pl tm-core test -Dtest=HaSimulationTest -Dtm.sim.firstSeed=9000  # other seeds
 * ./mvnw -pl tm-core test -Dtest='HaSimulationTest#severalNodesOnOneStoreNeverDisagreeNeverLandAFencedWriteAndConverge' -Dtm.sim.seed=1234 -Dtm.sim.trace=true   # replay one
 * </pre>
 */
class HaSimulationTest {

    @Test
    void severalNodesOnOneStoreNeverDisagreeNeverLandAFencedWriteAndConverge() {
        // Checks every invariant of SimCluster on 2000 seeds, and that the HA faults really happened and
        // reached the real participant core (lost streams, inquiries answered from the store).
        String one = System.getProperty("tm.sim.seed");
        long first = one != null ? Long.parseLong(one) : Long.getLong("tm.sim.firstSeed", 0);
        long count = one != null ? 1 : Long.getLong("tm.sim.seeds", 2_000);
        Map<String, Integer> totals = new TreeMap<>();
        long started = System.nanoTime();
        // CPU time of this thread too: the machine is shared, so wall time alone says little about the cost
        long cpuStarted = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        long slowestQuiet = 0;
        long slowestSeed = first;
        for (long seed = first; seed < first + count; seed++) {
            SimCluster cluster = new SimCluster(seed);
            cluster.run();
            cluster.stats().forEach((k, v) -> totals.merge(k, v, Integer::sum));
            if (cluster.ticksToQuiet() > slowestQuiet) {
                slowestQuiet = cluster.ticksToQuiet();
                slowestSeed = seed;
            }
        }
        long cpuMillis = (java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuStarted) / 1_000_000;
        System.out.printf("HaSimulationTest: %d seeds from %d in %d ms (%d ms CPU); slowest to quiet after healing: %d ticks (seed %d)%n",
                count, first, (System.nanoTime() - started) / 1_000_000, cpuMillis, slowestQuiet, slowestSeed);
        totals.forEach((k, v) -> System.out.printf("  %-70s %d%n", k, v));
        assertThat(totals.getOrDefault("runs quiet after healing", 0)).isEqualTo((int) count);
        if (one == null) {
            assertThat(totals.getOrDefault("takeover", 0)).as("nodes were taken over").isPositive();
            assertThat(totals.getOrDefault("zombie insert fenced", 0)).as("a woken zombie's insert was refused").isPositive();
            assertThat(totals.getOrDefault("store verdict ROLLBACK", 0)).as("R4 presumed a fenced owner's gtrid aborted").isPositive();
            assertThat(totals.getOrDefault("store verdict COMMIT", 0)).as("R4 answered COMMIT from a row").isPositive();
            assertThat(totals.getOrDefault("client request refused by R2", 0)).as("R2 refused a stale incarnation's gtrid").isPositive();
            assertThat(totals.getOrDefault("streams to a frozen node ended by keepalive", 0)).as("agents gave up on frozen nodes").isPositive();
            assertThat(totals.getOrDefault("streams lost with unprepared branches, rolled back by their agent", 0))
                    .as("the participant core rolled back a lost node's unprepared branches").isPositive();
            assertThat(totals.getOrDefault("inquiry answered from the store (R4)", 0)).as("an open node answered for another's gtrid").isPositive();
        }
    }

    @Test
    void aTakeoverThatIgnoresTheEpochIsCaughtByASeed() {
        // Plants a takeover that leaves the dead node's epoch as it was (HaOptions.IGNORES_EPOCH): some
        // seed must fail with a fenced write landing or two outcomes, and print its replay command.
        String one = System.getProperty("tm.sim.seed");
        long first = one != null ? Long.parseLong(one) : 0;
        long last = one != null ? first : 2_000;
        AssertionError caught = null;
        for (long seed = first; seed <= last && caught == null; seed++) {
            SimCluster planted = new SimCluster(seed, HaOptions.random(new java.util.SplittableRandom(seed))
                    .withTakeover(HaOptions.IGNORES_EPOCH)).replayAs("HaSimulationTest#aTakeoverThatIgnoresTheEpochIsCaughtByASeed");
            try {
                planted.run();
            } catch (AssertionError e) {
                caught = e;
            }
        }
        assertThat(caught).as("a seed catches the takeover that ignores the epoch").isNotNull();
        String firstLine = caught.getMessage().lines().findFirst().orElse("");
        System.out.println("planted bug caught: " + firstLine);
        System.out.println(caught.getMessage().lines().filter(l -> l.contains("replay:")).findFirst().orElse(""));
        assertThat(firstLine).containsAnyOf("a fenced write landed", "two outcomes", "mixed outcome", "durable decision changed",
                "COMMIT row inserted");
    }
}
