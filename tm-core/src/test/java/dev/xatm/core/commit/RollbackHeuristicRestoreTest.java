package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Effects;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.InDoubtReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A heuristic outcome reported for a rolled-back transaction survives a restart: presumed abort logs
 * nothing for a rollback, so the coordinator writes a {@link LogRecord.Heuristics} record, and a
 * restarted coordinator holds the transaction for an operator until it is forgotten (then Completed
 * closes it). Committed transactions need no such record: their Decision stays open (HeuristicTest).
 */
class RollbackHeuristicRestoreTest {
    private final Fixture f = new Fixture();
    private final List<LogRecord> log = new ArrayList<>();

    @Test
    void aHeuristicCommitOfARollbackIsLoggedAndHeldAfterARestartUntilForgotten() {
        record(f.commitRequested("g1", 2));
        record(f.vote("g1", 1, Vote.YES));
        record(f.vote("g1", 2, Vote.NO));
        record(f.ack("g1", 2, Action.ROLLBACK));
        Effects fx = record(f.ack("g1", 1, Action.ROLLBACK, AckResult.HEURISTIC_COMMIT));
        assertThat(fx.logAppends()).singleElement().isInstanceOfSatisfying(LogRecord.Heuristics.class, h -> {
            assertThat(h.decided()).isEqualTo(Outcome.ROLLED_BACK);
            assertThat(h.branches()).singleElement().satisfies(b -> {
                assertThat(b.branch().bqual()).isEqualTo("b1");
                assertThat(b.result()).isEqualTo(AckResult.HEURISTIC_COMMIT);
            });
        });
        assertThat(fx.mustSync()).as("written with the next group commit, not waited for").isFalse();

        Coordinator restarted = Coordinator.restore(Fixture.CONFIG, log, 5_000);
        assertThat(restarted.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(restarted.heldCount()).isOne();
        assertThat(restarted.views().inDoubt(0, 10)).singleElement().satisfies(t -> {
            assertThat(t.summary().outcome()).isEqualTo(Outcome.ROLLED_BACK);
            assertThat(t.summary().restored()).isTrue();
            assertThat(t.reasons()).singleElement().satisfies(r -> {
                assertThat(r.kind()).isEqualTo(InDoubtReason.Kind.HEURISTIC);
                assertThat(r.bqual()).isEqualTo("b1");
                assertThat(r.message()).contains("HEURISTIC_COMMIT");
            });
        });

        Fixture after = new Fixture(restarted);
        Effects forgot = after.forget("g1");
        assertThat(forgot.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        log.addAll(forgot.logAppends());
        Coordinator again = Coordinator.restore(Fixture.CONFIG, log, 9_000);
        assertThat(again.heldCount()).as("forgotten: no longer held after a restart").isZero();
        assertThat(again.views().inDoubt(0, 10)).isEmpty();
    }

    @Test
    void aHeuristicReportedAfterTheRollbackFinishedIsLoggedWithEveryHeuristicBranchSoFar() {
        record(f.commitRequested("g1", 2));
        record(f.vote("g1", 1, Vote.YES));
        record(f.vote("g1", 2, Vote.NO));
        record(f.ack("g1", 1, Action.ROLLBACK, AckResult.HEURISTIC_MIXED));
        record(f.ack("g1", 2, Action.ROLLBACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        // b2's database, asked again later, says it had committed on its own after all
        Effects late = record(f.ack("g1", 2, Action.ROLLBACK, AckResult.HEURISTIC_COMMIT));
        assertThat(late.logAppends()).singleElement().isInstanceOfSatisfying(LogRecord.Heuristics.class, h ->
                assertThat(h.branches()).extracting(b -> b.branch().bqual() + "=" + b.result())
                        .containsExactly("b1=HEURISTIC_MIXED", "b2=HEURISTIC_COMMIT"));

        Coordinator restarted = Coordinator.restore(Fixture.CONFIG, log, 5_000);
        assertThat(restarted.views().detail("g1", 0).orElseThrow().branches())
                .extracting(b -> b.bqual() + "=" + b.heuristic()).containsExactly("b1=HEURISTIC_MIXED", "b2=HEURISTIC_COMMIT");
    }

    @Test
    void aCleanRollbackStillWritesNothing() {
        record(f.commitRequested("g1", 2));
        record(f.vote("g1", 1, Vote.YES));
        record(f.vote("g1", 2, Vote.NO));
        record(f.ack("g1", 1, Action.ROLLBACK));
        record(f.ack("g1", 2, Action.ROLLBACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(log).as("presumed abort").isEmpty();
    }

    private Effects record(Effects fx) {
        log.addAll(fx.logAppends());
        return fx;
    }
}
