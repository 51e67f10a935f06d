package dev.xatm.core.sim;

import dev.xatm.core.TxnStatus;
import dev.xatm.core.sim.Invariants.Truth;
import dev.xatm.core.sim.SimClient.Ending;
import dev.xatm.core.sim.SimClient.Plan;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The known crash points of XA coordinators played on a fault-free {@link SimWorld}, each fault placed by
 * hand. The same invariants as the random runs are checked after every step.
 */
class ScriptedScenariosTest {
    private static final long SCENARIO_TICKS = 500;

    private static SimWorld world(int agents) {
        return new SimWorld(42, SimOptions.calm(agents));
    }

    /** One transaction over the first n agents, every branch writing, starting at tick 1. */
    private static Plan plan(String gtrid, int branches, Ending ending) {
        int[] agents = new int[branches];
        boolean[] wrote = new boolean[branches];
        for (int i = 0; i < branches; i++) {
            agents[i] = i;
            wrote[i] = true;
        }
        return new Plan(gtrid, 1, 1_000, agents, wrote, ending);
    }

    @Test
    void twoBranchCommitWithoutFaultsCommitsBoth() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.guarded(w::runUntilQuiet);
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.COMMITTED);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.COMMITTED);
        assertThat(w.client("g1").result()).isEqualTo("COMMITTED");
    }

    /** Crash after the decision is durable, before any XA COMMIT: recovery commits all. */
    @Test
    void crashAfterDecisionDurableBeforeAnyCommitCommitsEverythingAfterRestore() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.log().hold(true);
        w.guarded(() -> {
            w.runUntil(() -> w.log().everAppendedDecision("g1"), SCENARIO_TICKS, "decision appended");
            w.log().syncAll();              // the fsync completes ...
            w.crashCoordinator(-1, false);  // ... and the process dies before DecisionDurable reaches the core
            assertThat(w.truth("g1", "b0")).isEqualTo(Truth.PREPARED);
            assertThat(w.truth("g1", "b1")).isEqualTo(Truth.PREPARED);
            w.restartCoordinator();
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.COMMITTING);
            w.heal();
            w.runUntilQuiet();
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.COMMITTED);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.COMMITTED);
        assertThat(w.client("g1").result()).isEqualTo("COMMITTED"); // its retried Commit finds the restored decision
    }

    /** Crash after the branches prepared, before the decision is durable: presumed abort. */
    @Test
    void crashBeforeDecisionDurableRollsEverythingBack() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.log().hold(true);
        w.guarded(() -> {
            w.runUntil(() -> w.log().everAppendedDecision("g1"), SCENARIO_TICKS, "decision appended");
            w.crashCoordinator(-1, false); // the unsynced decision is lost
            w.restartCoordinator();
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.UNKNOWN);
            w.heal();
            w.runUntilQuiet(); // the agents inquire about their prepared branches and hear ROLLBACK
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
        // the agents' inquiries were answered ROLLBACK and that is remembered: the retried Commit hears it
        assertThat(w.client("g1").result()).isEqualTo("ROLLED_BACK");
        assertThat(w.log().durableDecision("g1")).isNull();
    }

    /** One branch committed, the other not, no completion record: recovery finishes the commit. */
    @Test
    void crashAfterPartialPhaseTwoCommitsTheRestAfterRestore() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.guarded(() -> {
            w.runUntil(() -> w.log().durableDecision("g1") != null, SCENARIO_TICKS, "decision durable");
            w.partition(1, 10_000); // COMMIT to agent-1 is lost with its stream
            w.runUntil(() -> w.truth("g1", "b0") == Truth.COMMITTED, SCENARIO_TICKS, "b0 committed");
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.COMMITTING); // b1 has not acknowledged
            w.crashCoordinator(-1, false);
            assertThat(w.truth("g1", "b1")).isEqualTo(Truth.PREPARED);
            w.restartCoordinator();
            w.heal();
            w.runUntilQuiet(); // b0 gets COMMIT again (XAER_NOTA: done), b1 commits
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.COMMITTED);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.COMMITTED);
    }

    /** A participant crashes holding a prepared branch; after restart it inquires and commits. */
    @Test
    void participantCrashWithPreparedBranchCommitsAfterRestart() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.guarded(() -> {
            w.runUntil(() -> w.log().everAppendedDecision("g1"), SCENARIO_TICKS, "decision appended");
            w.crashParticipant(1, w.now() + 50);
            assertThat(w.truth("g1", "b1")).isEqualTo(Truth.PREPARED); // survives the crash
            w.runUntil(() -> w.truth("g1", "b0") == Truth.COMMITTED, SCENARIO_TICKS, "b0 committed");
            assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.COMMITTING); // waits for agent-1
            w.runUntilQuiet();
        });
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.COMMITTED);
        assertThat(w.client("g1").result()).isEqualTo("COMMITTED");
    }

    /** A participant crashes before PREPARE: its branch is gone, everything rolls back. */
    @Test
    void participantCrashBeforePrepareRollsEverythingBack() {
        SimWorld w = world(2);
        w.addClient(plan("g1", 2, Ending.COMMIT));
        w.guarded(() -> {
            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.PREPARING, SCENARIO_TICKS, "commit asked");
            w.crashParticipant(1, w.now() + 50);
            w.runUntilQuiet();
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.client("g1").result()).isEqualTo("ROLLED_BACK");
    }

    /** The link to an agent breaks during phase 1: the transaction rolls back everywhere. */
    @Test
    void partitionDuringPhaseOneRollsBack() {
        SimWorld w = world(3);
        w.addClient(plan("g1", 3, Ending.COMMIT));
        w.guarded(() -> {
            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.PREPARING, SCENARIO_TICKS, "commit asked");
            w.partition(2, 200);
            w.runUntilQuiet();
        });
        for (String b : new String[] {"b0", "b1", "b2"}) {
            assertThat(w.truth("g1", b)).isEqualTo(Truth.ROLLED_BACK);
        }
        assertThat(w.client("g1").result()).isEqualTo("ROLLED_BACK");
    }

    /** A one-phase commit whose agent vanishes is reported as a hazard, never as rolled back. */
    @Test
    void onePhaseCommitWhoseAgentVanishesIsAHeuristicHazard() {
        SimWorld w = world(1);
        w.addClient(plan("g1", 1, Ending.COMMIT));
        w.guarded(() -> {
            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.PREPARING, SCENARIO_TICKS, "one-phase commit sent");
            w.partition(0, 100); // the command dies with the stream
            w.runUntilQuiet();
        });
        assertThat(w.client("g1").result()).isEqualTo("HEURISTIC_HAZARD");
        // Held, in doubt, until the operator (who works the list once the run is quiet) forgot it.
        assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC_HAZARD);
        assertThat(w.coordinator().heldCount()).isZero();
        assertThat(w.coordinator().views().detail("g1", 0).orElseThrow().summary().acknowledgedBy()).isEqualTo("sim-operator");
        // The client still held the branch open; having heard no COMMITTED it rolled it back itself.
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.ROLLED_BACK);
    }

    /** A client that never finishes: its transaction times out and every branch rolls back. */
    @Test
    void abandonedTransactionTimesOutAndRollsBack() {
        SimWorld w = world(2);
        w.addClient(new Plan("g1", 1, 100, new int[] {0, 1}, new boolean[] {true, true}, Ending.ABANDON));
        w.guarded(() -> {
            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.FINISHED_ROLLED_BACK, SCENARIO_TICKS, "timed out");
            // The coordinator's ROLLBACK, not the client's death, ended the branches.
            assertThat(w.client("g1").finished()).isFalse();
            w.runUntilQuiet();
        });
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
    }

    /** Replaying a seed gives the very same run: what makes a printed seed worth anything. */
    @Test
    void aSeedReplaysExactly() {
        for (long seed : new long[] {3, 67, 1449}) {
            SimWorld a = new SimWorld(seed);
            SimWorld b = new SimWorld(seed);
            a.run();
            b.run();
            assertThat(a.now()).isEqualTo(b.now());
            assertThat(a.stats()).isEqualTo(b.stats());
        }
    }
}
