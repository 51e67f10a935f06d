package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Protocol;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.sim.Invariants.Truth;
import dev.xatm.core.sim.SimClient.Ending;
import dev.xatm.core.sim.SimClient.Plan;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.TxnDetail;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * <b>3PC's known partition hazard, shown on purpose. This test passes by showing the violation: it
 * is the trade-off of three-phase commit, not a bug of this coordinator.</b>
 *
 * <p>Three-phase commit gives participants a timer so that they need not block when the coordinator
 * is gone: a participant that acknowledged PRE_COMMIT and hears nothing more commits on its own
 *. That is only safe if "hears nothing" means "the coordinator is dead and was about to
 * commit"; with a network partition it may instead mean "the coordinator aborted and its ROLLBACK
 * cannot reach me". No choice of timeouts fixes that: 3PC is non-blocking only by giving up
 * atomicity under partitions (Skeen 1981; the FLP/CAP trade-off). 2PC makes the opposite choice and
 * blocks instead.
 *
 * <p>The schedule, on a fault-free {@link SimWorld} with the faults placed by hand: b0 answers YES to
 * PRE_COMMIT (it is XA-prepared) and its link is cut at once; b1's XA PREPARE fails, so it answers
 * NO and the coordinator aborts; b0, partitioned, runs out its 300-tick timer and commits on its own.
 * The branches now disagree, which the test asserts. When the partition heals, b0's agent reports
 * what it did, and the coordinator records it as a heuristic commit: FINISHED_HEURISTIC, listed in
 * doubt, with a PARTICIPANT_DECIDED entry in its history, held until an operator forgets it. The
 * hazard is made visible, never hidden.
 */
class ThreePhasePartitionHazardTest {

    @Test
    void aParticipantPartitionedAfterPreCommitCommitsOnItsOwnWhileTheCoordinatorAborts() {
        SimWorld w = new SimWorld(42, SimOptions.calmThreePhase(2));
        w.addClient(new Plan("g1", 1, 5_000, new int[] {0, 1}, new boolean[] {true, true}, Ending.COMMIT, Protocol.THREE_PHASE));
        List<String> mixed = w.recordMixedOutcomes();
        w.participant(1).database().failNextPrepare(new BranchId("g1", "b1"));

        w.guarded(() -> {
            w.runUntil(() -> w.truth("g1", "b0") == Truth.PREPARED, 500, "b0 prepared by PRE_COMMIT");
            w.partition(0, 400); // b0's YES dies with its stream; no ROLLBACK can reach it for 400 ticks

            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.FINISHED_ROLLED_BACK, 500, "the coordinator aborted");
            assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
            assertThat(w.truth("g1", "b0")).isEqualTo(Truth.PREPARED);
            assertThat(w.client("g1").result()).isEqualTo("ROLLED_BACK");

            w.runUntil(() -> w.truth("g1", "b0") == Truth.COMMITTED, 500, "b0 committed on its own by its PRE_COMMIT timer");
        });

        // The violation, exactly: one branch committed, the other rolled back, the client told ROLLED_BACK.
        assertThat(w.truth("g1", "b0")).isEqualTo(Truth.COMMITTED);
        assertThat(w.truth("g1", "b1")).isEqualTo(Truth.ROLLED_BACK);
        assertThat(mixed).hasSize(2);
        assertThat(mixed.get(0)).startsWith("mixed outcome: g1/b0 committed while another branch rolled back");
        assertThat(mixed.get(1)).contains("g1/b0 committed, but the client was told it rolled back");
        assertThat(w.coordinator().status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK); // it does not know yet

        // The partition heals: b0's agent reconnects and reports; the coordinator records a heuristic commit.
        w.guarded(() -> {
            w.runUntil(() -> w.coordinator().status("g1") == TxnStatus.FINISHED_HEURISTIC, 500, "the report recorded");
        });
        assertThat(w.coordinator().heldCount()).isEqualTo(1);
        assertThat(w.coordinator().views().inDoubt(Long.MAX_VALUE, 10)).singleElement().satisfies(t -> {
            assertThat(t.summary().gtrid()).isEqualTo("g1");
            assertThat(t.summary().protocol()).isEqualTo("3PC");
            assertThat(t.reasons()).extracting(InDoubtReason::kind).containsExactly(InDoubtReason.Kind.HEURISTIC);
            assertThat(t.reasons().get(0).bqual()).isEqualTo("b0");
        });
        TxnDetail d = w.coordinator().views().detail("g1", 0).orElseThrow();
        BranchView b0 = d.branches().get(0);
        assertThat(b0.heuristic()).isEqualTo(AckResult.HEURISTIC_COMMIT);
        assertThat(b0.decidedOnItsOwn()).isEqualTo(Action.COMMIT);
        assertThat(d.history()).filteredOn(h -> h.kind() == Kind.PARTICIPANT_DECIDED).extracting(HistoryEntry::bqual)
                .containsExactly("b0");

        // An operator reconciles and forgets it (the world's operator does once healed); then all is quiet.
        w.guarded(w::runUntilQuiet);
        assertThat(w.coordinator().heldCount()).isZero();
        assertThat(mixed).hasSize(2); // nothing else disagreed
    }
}
