package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import static dev.xatm.core.commit.BeginAndRegisterTest.rejection;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/** Rule 10: a client asks to roll back. */
class RollbackRequestTest {
    private final Fixture f = new Fixture();

    @Test
    void rollbackOfActiveTransactionRollsBackEveryBranch() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        var e = f.rollback("g1");
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.logAppends()).isEmpty();
    }

    @Test
    void rollbackOfActiveTransactionWithoutBranchesFinishesAtOnce() {
        f.begin("g1");
        assertThat(f.rollback("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.ROLLED_BACK), new Reply.Finished("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void rollbackWhilePreparingAborts() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        var e = f.rollback("g1");
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        // The vote that was still coming decides nothing any more.
        assertThat(f.vote("g1", 2, Vote.YES).logAppends()).isEmpty();
    }

    @Test
    void rollbackDuringOnePhaseCommitIsFailedPrecondition() {
        f.commitRequested("g1", 1);
        var r = (Reply.Rejected) f.rollback("g1").replies().get(0);
        assertThat(r.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        assertThat(r.request()).isEqualTo(RequestKind.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void rollbackAfterTheCommitDecisionIsFailedPreconditionDurableOrNot() {
        f.allVotedYes("g1");
        assertThat(rejection(f.rollback("g1").replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        f.durable("g1");
        assertThat(rejection(f.rollback("g1").replies())).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void rollbackWhileRollingBackRepeatsTheOutcome() {
        f.begin("g1", 100);
        f.register("g1", 1);
        f.tick(100);
        assertThat(f.rollback("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.TIMED_OUT));
    }

    @Test
    void rollbackOfFinishedTransactionRepeatsItsOutcome() {
        f.begin("g1");
        f.rollback("g1");
        assertThat(f.rollback("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.ROLLED_BACK), new Reply.Finished("g1", Outcome.ROLLED_BACK));
        f.begin("g2");
        f.commit("g2");
        assertThat(f.rollback("g2").replies()).containsExactly(
                new Reply.Decided("g2", Outcome.COMMITTED), new Reply.Finished("g2", Outcome.COMMITTED));
    }

    @Test
    void rollbackOfUnknownOrMalformedGtrid() {
        assertThat(rejection(f.rollback("ghost").replies())).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(rejection(f.rollback("bad gtrid").replies())).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }
}
