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
        String one = System.getProperty("tm.sim.seed");
        long first = one != null ? Long.parseLong(one) : Long.getLong("tm.sim.firstSeed", 0);
        long count = one != null ? 1 : Long.getLong("tm.sim.seeds", 2_000);
        Map<String, Integer> totals = new TreeMap<>();
        long started = System.nanoTime();
        long slowestQuiet = 0;
        long slowestSeed = first;
        for (long seed = first; seed < first + count; seed++) {
            SimWorld world = new SimWorld(seed);
            world.run();
            world.stats().forEach((k, v) -> totals.merge(k, v, Integer::sum));
            if (world.ticksToQuiet() > slowestQuiet) {
                slowestQuiet = world.ticksToQuiet();
                slowestSeed = seed;
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("SimulationTest: %d seeds from %d in %d ms; slowest to quiet after healing: %d ticks (seed %d)%n",
                count, first, millis, slowestQuiet, slowestSeed);
        totals.forEach((k, v) -> System.out.printf("  %-70s %d%n", k, v));
    }
}
