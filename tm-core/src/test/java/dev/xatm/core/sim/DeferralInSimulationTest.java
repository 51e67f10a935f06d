package dev.xatm.core.sim;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The random runs exercise deferral: a simulated business client sometimes keeps holding a registered
 * branch after its work, a phase command arrives meanwhile, the participant core parks it, and it runs
 * when the client lets go; every invariant still holds (the runs pass) in 2PC and mixed 3PC worlds.
 */
class DeferralInSimulationTest {

    /** Checks that 200 seeds of each mode run parked phase commands, and pass while doing so. */
    @Test
    void phaseCommandsArriveWhileTheBusinessCodeHoldsBranchesAndRunWhenItLetsGo() {
        Map<String, Integer> totals = new TreeMap<>();
        for (long seed = 0; seed < 200; seed++) {
            for (SimWorld w : new SimWorld[] {new SimWorld(seed), SimWorld.threePhase(seed)}) {
                w.run();
                w.stats().forEach((k, v) -> totals.merge(k, v, Integer::sum));
            }
        }
        assertThat(totals.getOrDefault("branches the business code held on to after its work", 0)).isPositive();
        assertThat(totals.getOrDefault("phase commands parked while the business code held the branch, run when it let go", 0))
                .isPositive();
    }
}
