package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
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
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.InDoubtTxn;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heuristic outcomes reported by a database ("recorded, shown as such, and never silently
 * dropped"): they end the branch's phase 2, the transaction finishes as FINISHED_HEURISTIC and is
 * held, listed as in doubt, until an operator forgets it.
 */
class HeuristicTest {
    private final Fixture f = new Fixture();

    @Test
    void aHeuristicRollbackOfACommitFinishesHeuristicAndKeepsTheDecisionRecordOpen() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        Effects fx = f.ack("g1", 2, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK);
        assertThat(fx.logAppends()).as("no Completed: a restart must ask the databases again").isEmpty();
        assertThat(fx.replies()).containsExactly(new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.liveCount()).isZero();
        assertThat(f.c.heldCount()).isOne();
        // a repeated commit request hears the decision, then that its end is uncertain
        assertThat(f.commit("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));

        List<InDoubtTxn> inDoubt = f.c.views().inDoubt(60_000, 10);
        assertThat(inDoubt).singleElement().satisfies(t -> {
            assertThat(t.summary().gtrid()).isEqualTo("g1");
            assertThat(t.reasons()).singleElement().satisfies(r -> {
                assertThat(r.kind()).isEqualTo(InDoubtReason.Kind.HEURISTIC);
                assertThat(r.bqual()).isEqualTo("b2");
                assertThat(r.message()).contains("HEURISTIC_ROLLBACK");
            });
        });
        assertThat(f.c.views().detail("g1", 0).orElseThrow().branches().get(1).heuristic()).isEqualTo(AckResult.HEURISTIC_ROLLBACK);
    }

    @Test
    void forgettingAHeuristicClosesTheDecisionRecordAndTakesItOffTheInDoubtList() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT, AckResult.HEURISTIC_MIXED);
        f.ack("g1", 2, Action.COMMIT);
        Effects fx = f.forget("g1");
        assertThat(fx.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(fx.replies()).singleElement().isInstanceOfSatisfying(Reply.Resolved.class, r -> {
            assertThat(r.request()).isEqualTo(RequestKind.FORGET);
            assertThat(r.status()).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        });
        assertThat(f.c.views().inDoubt(0, 10)).isEmpty();
        assertThat(f.c.views().detail("g1", 0).orElseThrow().summary().acknowledgedBy()).isEqualTo("alice");
        assertThat(f.c.heldCount()).isZero();
        // a second forget changes nothing
        assertThat(f.forget("g1").logAppends()).isEmpty();
    }

    @Test
    void aHeldHeuristicIsNeverForgottenByTheFiniteMemory() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK);
        f.ack("g1", 2, Action.COMMIT);
        for (int i = 2; i <= 6; i++) { // finishedMemory is 2: these push everything else out
            f.begin("g" + i);
            f.commit("g" + i);
        }
        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
    }

    @Test
    void heldTransactionsCountAgainstTheLiveBoundSoTheyStayBounded() {
        for (int i = 1; i <= 3; i++) { // maxLiveTxns is 3
            f.commitRequested("h" + i, 1);
            f.ack("h" + i, 1, Action.COMMIT_ONE_PHASE, AckResult.HEURISTIC_COMMIT);
        }
        Reply.Rejected r = (Reply.Rejected) f.begin("g9").replies().get(0);
        assertThat(r.code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
        assertThat(r.message()).contains("waiting for an operator");
        f.forget("h1");
        assertThat(f.begin("g9").replies()).singleElement().isInstanceOf(Reply.Begun.class);
    }

    @Test
    void aHeuristicCommitOfARollbackIsHeldAndInquiriesStillGetTheDecidedRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.NO);
        f.ack("g1", 2, Action.ROLLBACK);
        Effects fx = f.ack("g1", 1, Action.ROLLBACK, AckResult.HEURISTIC_COMMIT);
        assertThat(fx.replies()).containsExactly(new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.views().detail("g1", 0).orElseThrow().summary().outcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(f.inquiry("g1", 1, "a7").messages()).containsExactly(new dev.xatm.core.Outbound("a7", "g1", "b1", Action.ROLLBACK));
        assertThat(f.vote("g1", 1, Vote.YES).messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
    }

    @Test
    void aHeuristicOnAOnePhaseCommitIsAHazardForTheClient() {
        f.commitRequested("g1", 1);
        Effects fx = f.ack("g1", 1, Action.COMMIT_ONE_PHASE, AckResult.HEURISTIC_MIXED);
        assertThat(fx.replies()).containsExactly(
                new Reply.Decided("g1", Outcome.HEURISTIC_HAZARD), new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
    }

    @Test
    void aHeuristicReportedAfterTheEndIsHeldAgain() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        f.ack("g1", 2, Action.COMMIT, AckResult.HEURISTIC_MIXED);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.views().inDoubt(0, 10)).extracting(t -> t.summary().gtrid()).containsExactly("g1");
    }

    @Test
    void aHeuristicForAnUnknownTransactionIsRefusedLoudlyNotIgnored() {
        Effects fx = f.ack("nobody", 1, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK);
        assertThat(fx.replies()).singleElement().isInstanceOfSatisfying(Reply.Rejected.class, r -> {
            assertThat(r.request()).isEqualTo(RequestKind.ACK);
            assertThat(r.message()).contains("HEURISTIC_ROLLBACK").contains("operator");
        });
        // an ordinary duplicate ack stays silent
        assertThat(f.ack("nobody", 1, Action.COMMIT).isEmpty()).isTrue();
    }

    @Test
    void aRestartBeforeTheOperatorForgetsResumesPhaseTwoSoTheDatabasesAreAskedAgain() {
        List<LogRecord> log = new ArrayList<>();
        log.addAll(f.allVotedYes("g1").logAppends());
        f.durable("g1");
        log.addAll(f.ack("g1", 1, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK).logAppends());
        log.addAll(f.ack("g1", 2, Action.COMMIT).logAppends());
        Fixture after = new Fixture(Coordinator.restore(Fixture.CONFIG, log, 0));
        assertThat(after.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        after.connected(1);
        after.connected(2);
        after.ack("g1", 1, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK);
        after.ack("g1", 2, Action.COMMIT);
        assertThat(after.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
    }

    @Test
    void aOnePhaseHazardIsHeldAndListedUntilForgotten() {
        f.commitRequested("g1", 1);
        f.disconnected(1);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC_HAZARD);
        assertThat(f.c.views().inDoubt(60_000, 10)).singleElement()
                .satisfies(t -> assertThat(t.reasons().get(0).kind()).isEqualTo(InDoubtReason.Kind.HEURISTIC_HAZARD));
        assertThat(f.forget("g1").logAppends()).as("one phase: nothing was logged, nothing to close").isEmpty();
        assertThat(f.c.views().inDoubt(0, 10)).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC_HAZARD);
    }

    @Test
    void aNonHeuristicAckResultCannotMakeABranchHeuristic() {
        f.committing("g1");
        assertThat(f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.ROLLED_BACK_INSTEAD, "a1")).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    /**
     * A branch whose fate nobody knows (XA_HEURHAZ, or a prepared branch that vanished from its database
     * without our commit) ends its phase 2 like any heuristic: held, listed as in doubt with the reason,
     * until an operator forgets it; on a rollback it goes to the log, so a restart still holds it.
     */
    @Test
    void aHeuristicHazardFromABranchIsHeldAndListedAsInDoubt() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        Effects fx = f.ack("g1", 2, Action.COMMIT, AckResult.HEURISTIC_HAZARD);
        assertThat(fx.replies()).containsExactly(new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
        assertThat(f.c.views().inDoubt(0, 10)).singleElement().satisfies(t -> assertThat(t.reasons()).singleElement()
                .satisfies(r -> {
                    assertThat(r.kind()).isEqualTo(InDoubtReason.Kind.HEURISTIC);
                    assertThat(r.bqual()).isEqualTo("b2");
                    assertThat(r.message()).contains("HEURISTIC_HAZARD");
                }));

        f.commitRequested("g2", 2);
        f.vote("g2", 1, Vote.YES);
        f.vote("g2", 2, Vote.NO);
        f.ack("g2", 2, Action.ROLLBACK);
        Effects rb = f.ack("g2", 1, Action.ROLLBACK, AckResult.HEURISTIC_HAZARD);
        assertThat(rb.logAppends()).singleElement().isInstanceOfSatisfying(LogRecord.Heuristics.class, h ->
                assertThat(h.branches()).extracting(LogRecord.BranchHeuristic::result).containsExactly(AckResult.HEURISTIC_HAZARD));
        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.FINISHED_HEURISTIC);
    }
}
