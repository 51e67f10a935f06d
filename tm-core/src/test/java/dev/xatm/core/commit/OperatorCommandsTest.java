package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.HistoryEntry;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator's forced resolutions: allowed only where no durable decision contradicts them (and a
 * forced commit only WITH a durable COMMIT decision, because presumed abort lets anyone roll back an
 * undecided transaction), every attempt recorded in the history with the operator's name.
 */
class OperatorCommandsTest {
    private final Fixture f = new Fixture();

    // ---- force rollback ----

    @Test
    void forceRollbackOfAnActiveTransactionRollsEveryBranchBack() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        Effects fx = f.forceRollback("g1");
        assertThat(fx.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(fx.logAppends()).isEmpty();
        assertThat(fx.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(resolved(fx).request()).isEqualTo(RequestKind.FORCE_ROLLBACK);
        assertThat(resolved(fx).status()).isEqualTo(TxnStatus.ROLLING_BACK);
        assertThat(history("g1")).anySatisfy(h -> {
            assertThat(h.kind()).isEqualTo(HistoryEntry.Kind.FORCED_ROLLBACK);
            assertThat(h.detail()).contains("alice");
        });
    }

    @Test
    void forceRollbackOfAPreparingTransactionAbortsEvenAfterSomeYesVotes() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        Effects fx = f.forceRollback("g1");
        assertThat(fx.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        // the late YES of the other branch does not revive it
        assertThat(f.vote("g1", 2, Vote.YES).logAppends()).isEmpty();
    }

    @Test
    void forceRollbackIsRefusedWhileTheCommitDecisionIsBeingLogged() {
        f.allVotedYes("g1");
        Effects fx = f.forceRollback("g1");
        assertRefused(fx, RequestKind.FORCE_ROLLBACK, ErrorCode.FAILED_PRECONDITION, "COMMIT decision");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(history("g1")).anySatisfy(h -> assertThat(h.kind()).isEqualTo(HistoryEntry.Kind.FORCE_REFUSED));
        // and the decision goes ahead untouched
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void forceRollbackIsRefusedForADurableCommitDecisionLiveFinishedOrRestored() {
        f.committing("g1");
        assertRefused(f.forceRollback("g1"), RequestKind.FORCE_ROLLBACK, ErrorCode.FAILED_PRECONDITION, "durable");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertRefused(f.forceRollback("g1"), RequestKind.FORCE_ROLLBACK, ErrorCode.FAILED_PRECONDITION, "FINISHED_COMMITTED");

        Fixture restored = new Fixture(Coordinator.restore(Fixture.CONFIG,
                List.of(new LogRecord.Decision("g2", "n", List.of(branch(1), branch(2)))), 0));
        assertRefused(restored.forceRollback("g2"), RequestKind.FORCE_ROLLBACK, ErrorCode.FAILED_PRECONDITION, "durable");
    }

    @Test
    void forceRollbackIsRefusedDuringAOnePhaseCommit() {
        f.commitRequested("g1", 1);
        Effects fx = f.forceRollback("g1");
        assertRefused(fx, RequestKind.FORCE_ROLLBACK, ErrorCode.FAILED_PRECONDITION, "one-phase");
        assertThat(fx.messages()).isEmpty();
    }

    @Test
    void forceRollbackOfARollingBackTransactionResendsTheRollbackNow() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        f.ack("g1", 1, Action.ROLLBACK);
        Effects fx = f.forceRollback("g1"); // b2's resend is not due yet: only the operator makes it go now
        assertThat(fx.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
        assertThat(resolved(fx).message()).contains("already rolling back");
    }

    @Test
    void forceRollbackOfARolledBackTransactionIsANoOp() {
        f.begin("g1");
        f.rollback("g1");
        Effects fx = f.forceRollback("g1");
        assertThat(fx.messages()).isEmpty();
        assertThat(resolved(fx).status()).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    // ---- force commit ----

    @Test
    void forceCommitIsRefusedWithoutADurableCommitDecision() {
        f.begin("g1");
        f.register("g1", 1);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT, ErrorCode.FAILED_PRECONDITION, "presumed abort");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);

        f.commitRequested("g2", 2);
        f.vote("g2", 1, Vote.YES);
        assertRefused(f.forceCommit("g2"), RequestKind.FORCE_COMMIT, ErrorCode.FAILED_PRECONDITION, "no durable COMMIT decision");
        f.vote("g2", 2, Vote.YES); // decision appended, not durable
        assertRefused(f.forceCommit("g2"), RequestKind.FORCE_COMMIT, ErrorCode.FAILED_PRECONDITION, "not durable yet");
    }

    @Test
    void forceCommitIsRefusedForATransactionDecidedToRollBack() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT, ErrorCode.FAILED_PRECONDITION, "roll back");
        f.ack("g1", 1, Action.ROLLBACK);
        f.ack("g1", 2, Action.ROLLBACK);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT, ErrorCode.FAILED_PRECONDITION, "FINISHED_ROLLED_BACK");
    }

    @Test
    void forceCommitOfADurableDecisionResendsCommitToThePendingBranchesOnly() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        Effects fx = f.forceCommit("g1");
        assertThat(fx.messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
        assertThat(fx.logAppends()).isEmpty();
        assertThat(resolved(fx).status()).isEqualTo(TxnStatus.COMMITTING);
        assertThat(history("g1")).anySatisfy(h -> assertThat(h.kind()).isEqualTo(HistoryEntry.Kind.FORCED_COMMIT));
    }

    @Test
    void forceCommitSaysWhichBranchesWaitForAGoneAgent() {
        f.committing("g1");
        f.disconnected(2);
        Effects fx = f.forceCommit("g1");
        assertThat(fx.messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
        assertThat(resolved(fx).message()).contains("b2").contains("gone");
    }

    @Test
    void forceCommitOfACommittedTransactionIsANoOp() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        Effects fx = f.forceCommit("g1");
        assertThat(fx.messages()).isEmpty();
        assertThat(resolved(fx).status()).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    // ---- forget ----

    @Test
    void forgetIsOnlyForHeuristicOutcomes() {
        f.committing("g1");
        assertRefused(f.forget("g1"), RequestKind.FORGET, ErrorCode.FAILED_PRECONDITION, "never gives up");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertRefused(f.forget("g1"), RequestKind.FORGET, ErrorCode.FAILED_PRECONDITION, "heuristic");
    }

    // ---- malformed and unknown ----

    @Test
    void unknownTransactionsAreNotFoundAndMalformedRequestsInvalid() {
        for (Event e : List.of(new Event.ForceCommit("nope", "alice"), new Event.ForceRollback("nope", "alice"),
                new Event.Forget("nope", "alice"))) {
            Reply.Rejected r = (Reply.Rejected) f.step(e).replies().get(0);
            assertThat(r.code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThat(r.message()).contains("presumed rolled back");
        }
        f.begin("g1");
        assertRefused(f.step(new Event.ForceRollback("g 1", "alice")), RequestKind.FORCE_ROLLBACK, ErrorCode.INVALID_ARGUMENT, "gtrid");
        assertRefused(f.step(new Event.ForceRollback("g1", "")), RequestKind.FORCE_ROLLBACK, ErrorCode.INVALID_ARGUMENT, "operator");
        assertRefused(f.step(new Event.ForceRollback("g1", "x".repeat(129))), RequestKind.FORCE_ROLLBACK, ErrorCode.INVALID_ARGUMENT, "operator");
        assertRefused(f.step(new Event.ForceRollback("g1", "bad\nname")), RequestKind.FORCE_ROLLBACK, ErrorCode.INVALID_ARGUMENT, "operator");
        assertRefused(f.step(new Event.ForceRollback("g1", null)), RequestKind.FORCE_ROLLBACK, ErrorCode.INVALID_ARGUMENT, "operator");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);
        assertThat(f.step(new Event.ForceRollback("g1", "Jane Doe (on call)")).replies())
                .anySatisfy(r -> assertThat(r).isInstanceOf(Reply.Resolved.class));
    }

    // ---- helpers ----

    private List<HistoryEntry> history(String gtrid) {
        return f.c.views().detail(gtrid, 0).orElseThrow().history();
    }

    private static Reply.Resolved resolved(Effects fx) {
        return fx.replies().stream().filter(r -> r instanceof Reply.Resolved).map(r -> (Reply.Resolved) r)
                .findFirst().orElseThrow(() -> new AssertionError("no Resolved reply in " + fx));
    }

    private static void assertRefused(Effects fx, RequestKind kind, ErrorCode code, String messagePart) {
        assertThat(fx.messages()).isEmpty();
        assertThat(fx.logAppends()).isEmpty();
        assertThat(fx.replies()).hasSize(1);
        Reply.Rejected r = (Reply.Rejected) fx.replies().get(0);
        assertThat(r.request()).isEqualTo(kind);
        assertThat(r.code()).isEqualTo(code);
        assertThat(r.message()).contains(messagePart);
    }
}
