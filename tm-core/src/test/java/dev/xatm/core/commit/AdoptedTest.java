package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.HistoryEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A running coordinator that took over a dead node (docs/ha.md) is fed that node's open records as
 * {@link Event.Adopted}: phase 2 resumes exactly as after a restart (COMMIT to every branch, a 3PC
 * PRE_COMMIT asked again, a heuristic rollback held), next to the coordinator's own transactions,
 * and a gtrid it already knows is left alone.
 */
class AdoptedTest {
    private static final LogRecord.Decision D1 = new LogRecord.Decision("g1", "n", List.of(branch(1), branch(2)));
    private static final LogRecord.PreCommit P2 = new LogRecord.PreCommit("g2", "n", List.of(branch(1), branch(2)));

    @Test
    void anAdoptedCommitDecisionResumesPhaseTwoOnTheNextTickAndFinishes() {
        Fixture f = new Fixture();
        f.tick(1_000);

        var adopted = f.step(new Event.Adopted("node 1", List.of(D1)));

        assertThat(adopted.isEmpty()).as("nothing is written: the rows are this node's now").isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(f.tick(1_000).messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        f.ack("g1", 1, Action.COMMIT);
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).as("the adopter writes the completion as for its own").containsExactly(new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.commit("g1").replies()).contains(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void anAdoptedTransactionIsMarkedRestoredAndSaysWhereItCameFrom() {
        Fixture f = new Fixture();
        f.step(new Event.Adopted("node 7 (epoch 3)", List.of(D1)));

        var detail = f.c.views().detail("g1", 0).orElseThrow();
        assertThat(detail.summary().restored()).isTrue();
        assertThat(detail.history()).anySatisfy(h -> {
            assertThat(h.kind()).isEqualTo(HistoryEntry.Kind.RESTORED);
            assertThat(h.detail()).startsWith("adopted from node 7 (epoch 3): durable COMMIT decision");
        });
    }

    @Test
    void anAdoptedPreCommitWithoutDecisionIsAskedAgainAndNeverPresumedAborted() {
        Fixture f = new Fixture(Fixture.THREE_PHASE);
        f.tick(5_000);
        f.step(new Event.Adopted("node 1", List.of(P2)));

        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.PRE_COMMITTING);
        assertThat(f.tick(5_000).messages()).containsExactly(cmd("g2", 1, Action.PRE_COMMIT, 3_000), cmd("g2", 2, Action.PRE_COMMIT, 3_000));
        assertThat(f.rollback("g2").replies()).as("a restored PRE_COMMIT refuses a client's rollback")
                .singleElement().isInstanceOf(Reply.Rejected.class);
        f.vote("g2", 1, Vote.YES, Action.PRE_COMMIT);
        var decided = f.vote("g2", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(decided.logAppends()).singleElement().isInstanceOf(LogRecord.Decision.class);
    }

    @Test
    void anAdoptedHeuristicRollbackIsHeldForAnOperator() {
        Fixture f = new Fixture();
        var h = new LogRecord.Heuristics("g3", "n", Outcome.ROLLED_BACK,
                List.of(new LogRecord.BranchHeuristic(branch(1), AckResult.HEURISTIC_COMMIT)));
        f.step(new Event.Adopted("node 1", List.of(h)));

        assertThat(f.c.status("g3")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.heldCount()).isOne();
        assertThat(f.tick(10_000).messages()).isEmpty();
    }

    @Test
    void anAdoptedRecordFollowedByItsCompletionIsNotResumed() {
        Fixture f = new Fixture();
        f.step(new Event.Adopted("node 1", List.of(D1, new LogRecord.Completed("g1"))));

        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(f.tick(10_000).messages()).isEmpty();
    }

    @Test
    void aGtridTheCoordinatorKnowsAlreadyIsLeftAsItIs() {
        Fixture f = new Fixture();
        f.commitRequested("g1", 2); // our own g1, preparing
        var before = f.c.status("g1");

        f.step(new Event.Adopted("node 1", List.of(D1)));

        assertThat(before).isEqualTo(TxnStatus.PREPARING);
        assertThat(f.c.status("g1")).as("not replaced by the adopted COMMIT").isEqualTo(TxnStatus.PREPARING);
        assertThat(f.c.liveCount()).isOne();
    }

    @Test
    void adoptedTransactionsRunBesideTheCoordinatorsOwn() {
        Fixture f = new Fixture();
        f.committing("g9"); // ours, decided
        f.step(new Event.Adopted("node 1", List.of(D1)));

        assertThat(f.c.liveCount()).isEqualTo(2);
        assertThat(f.c.status("g9")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }
}
