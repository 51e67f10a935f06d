package dev.xatm.core.sim;

import dev.xatm.core.Action;
import dev.xatm.core.Protocol;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.sim.Invariants.Truth;
import dev.xatm.core.sim.SimClient.Ending;
import dev.xatm.core.sim.SimClient.Plan;
import dev.xatm.core.view.BranchView;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 3PC crash points placed by hand on a fault-free {@link SimWorld} (timeouts of
 * {@link SimOptions#calmThreePhase}: participants commit on their own 300 ticks after PRE_COMMIT). The
 * random 3PC runs keep every outage below the participants' margin, so they never reach the case the
 * restored-PRE_COMMIT rule exists for; these scenarios do.
 */
class ThreePhaseScenariosTest {

    private static SimWorld world() {
        SimWorld w = new SimWorld(42, SimOptions.calmThreePhase(2));
        w.addClient(new Plan("g1", 1, 5_000, new int[] {0, 1}, new boolean[] {true, true}, Ending.COMMIT, Protocol.THREE_PHASE));
        return w;
    }

    /**
     * Every branch acknowledged PRE_COMMIT, the coordinator crashed before its COMMIT decision was
     * durable and stayed down longer than the participants' timers: both committed on their own. The
     * restarted coordinator finds the PRE_COMMIT record alone and must not presume abort: it asks again,
     * hears the autonomous commits, and commits. (A coordinator that presumed abort here would tell the
     * client NOT_FOUND, "presumed rolled back", for a transaction whose branches committed.)
     */
    @Test
    void aLongOutageAfterEveryPreCommitEndsInTheCommitTheParticipantsMadeOnTheirOwn() {
        SimWorld w = world();
        w.guarded(() -> {
            w.runUntil(() -> w.log().durablePreCommit("g1"), 500, "PRE_COMMIT record durable");
            w.log().hold(true); // the COMMIT decision will not reach the disk
            w.runUntil(() -> w.log().everAppendedDecision("g1"), 500, "every PRE_COMMIT answered YES");
            w.crashCoordinator(-1, false);
            assertThat(w.truth("g1", "b0")).isEqualTo(Truth.PREPARED);
            assertThat(w.truth("g1", "b1")).isEqualTo(Truth.PREPARED);
            w.runUntil(() -> w.truth("g1", "b0") == Truth.COMMITTED && w.truth("g1", "b1") == Truth.COMMITTED, 500,
                    "both committed on their own while the coordinator is down");
            w.log().hold(false);
            w.restartCoordinator();
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
            w.heal();
            w.runUntilQuiet();
        });
        assertThat(w.client("g1").result()).isEqualTo("COMMITTED");
        assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(w.coordinator().views().detail("g1", 0).orElseThrow().branches())
                .extracting(BranchView::decidedOnItsOwn).containsExactly(Action.COMMIT, Action.COMMIT);
    }

    /**
     * The coordinator crashed after its PRE_COMMIT record was durable but before any PRE_COMMIT went
     * out, and comes back quickly: the branches are only willing (XA-ended, not prepared). The crash ends
     * the agents' streams, and an agent rolls back the unprepared branches of a server whose stream broke
     * (that server aborts them, or forgot them); so the restored coordinator, which never presumes abort
     * after a PRE_COMMIT record, resends PRE_COMMIT, hears NO from both, and rolls back.
     */
    @Test
    void aCrashRightAfterThePreCommitRecordResendsPreCommitAndTheWillingBranchesRolledBackWithTheStream() {
        SimWorld w = world();
        w.log().hold(true);
        w.guarded(() -> {
            w.runUntil(() -> w.log().size() > 0, 500, "PRE_COMMIT record appended");
            w.log().syncAll();             // durable ...
            w.crashCoordinator(-1, false); // ... and the process dies before DecisionDurable reaches the core
            w.restartCoordinator();
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
            w.heal();
            w.runUntilQuiet();
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.client("g1").result()).isEqualTo("ROLLED_BACK");
    }
}
