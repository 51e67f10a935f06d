package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Rule 5: acknowledgements finish phase 2; repeats and strays change nothing. */
class PhaseTwoTest {
    private final Fixture f = new Fixture();

    @Test
    void lastCommitAckAppendsCompletedWithoutSyncAndFinishes() {
        f.committing("g1");
        var first = f.ack("g1", 1, Action.COMMIT);
        assertThat(first.isEmpty()).isTrue();
        var last = f.ack("g1", 2, Action.COMMIT);
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.mustSync()).isFalse();
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.c.liveCount()).isZero();
    }

    @Test
    void readOnlyBranchesAreNotWaitedForInPhaseTwo() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.READ_ONLY);
        f.vote("g1", 2, Vote.YES);
        f.durable("g1");
        assertThat(f.ack("g1", 2, Action.COMMIT).replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void lastRollbackAckFinishesWithoutLogging() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        f.ack("g1", 1, Action.ROLLBACK);
        var last = f.ack("g1", 2, Action.ROLLBACK);
        assertThat(last.logAppends()).isEmpty();
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void timedOutRollbackFinishesAsTimedOut() {
        f.begin("g1", 500);
        f.register("g1", 1);
        f.tick(500);
        assertThat(f.ack("g1", 1, Action.ROLLBACK).replies()).containsExactly(new Reply.Finished("g1", Outcome.TIMED_OUT));
        assertThat(f.commit("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.TIMED_OUT), new Reply.Finished("g1", Outcome.TIMED_OUT));
    }

    @Test
    void duplicateAcksAreIgnored() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        assertThat(f.ack("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void acksForUnknownOrFinishedTransactionsAreIgnored() {
        assertThat(f.ack("ghost", 1, Action.COMMIT).isEmpty()).isTrue();
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.ack("g1", 2, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.ack("g1", 9, Action.COMMIT).isEmpty()).isTrue();
    }

    @Test
    void ackForACommandNotPendingIsIgnored() {
        f.committing("g1");
        // A ROLLBACK ack while committing answers nothing we asked; it must not count as COMMIT.
        assertThat(f.ack("g1", 1, Action.ROLLBACK).isEmpty()).isTrue();
        assertThat(f.ack("g1", 1, Action.PREPARE).isEmpty()).isTrue();
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void commitAckWithRolledBackInsteadIsNotCountedAsCommitted() {
        f.committing("g1");
        f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.ROLLED_BACK_INSTEAD, "a1"));
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        // ... and COMMIT keeps going to b1.
        assertThat(f.tick(100_000).messages()).containsExactly(Fixture.cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void ackBeforeDecisionIsDurableIsIgnored() {
        f.allVotedYes("g1");
        assertThat(f.ack("g1", 1, Action.COMMIT).isEmpty()).isTrue();
        assertThat(f.durable("g1").messages()).hasSize(2);
    }
}
