package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cheap start of three-phase commit (Event.CanCommitHeld): the requesting agent answered
 * CAN_COMMIT for its own branches and brings the answers on the request that starts the
 * transaction. From there on it is 3PC as always: the PRE_COMMIT record before any PRE_COMMIT, the
 * participant timeouts on the commands, the Aborted record after it. Timeouts are those of
 * {@link Fixture#THREE_PHASE}: coordinator 500 / 700 ms, participants 2000 / 3000 ms.
 */
class ThreePhaseHeldTest {
    private static final long PARTICIPANT_PRE_COMMIT = 3_000;

    private final Fixture f = new Fixture(Fixture.THREE_PHASE);

    /** Branches "bN" on database "dbN", all held by agent "a1" (the requester). */
    private static Branch own(int n) {
        return new Branch("b" + n, "db" + n, "a1");
    }

    private static Outbound preCommit(String gtrid, int n) {
        return new Outbound("a1", gtrid, "b" + n, Action.PRE_COMMIT, PARTICIPANT_PRE_COMMIT);
    }

    private Event.CanCommitHeld request(String gtrid, Vote... answers) {
        List<Event.Voted> voted = new ArrayList<>();
        for (int i = 0; i < answers.length; i++) {
            voted.add(new Event.Voted(own(i + 1), answers[i]));
        }
        return new Event.CanCommitHeld(gtrid, "order", Fixture.DEADLINE, "a1", voted);
    }

    private Effects preCommitVote(String gtrid, int n, Vote vote) {
        return f.step(new Event.VoteReceived(gtrid, "b" + n, vote, Action.PRE_COMMIT, "a1"));
    }

    /** The holder's second request: its own PRE_COMMIT answers for b1, b2, ... */
    private Effects preCommitHeld(String gtrid, Vote... answers) {
        List<Event.Voted> voted = new ArrayList<>();
        for (int i = 0; i < answers.length; i++) {
            voted.add(new Event.Voted(own(i + 1), answers[i]));
        }
        return f.step(new Event.PreCommitHeld(gtrid, "a1", voted));
    }

    /** Both requests answered as they should be, up to the durable PRE_COMMIT record. */
    private void preCommitted(String gtrid) {
        f.step(request(gtrid, Vote.YES, Vote.YES));
        f.durable(gtrid);
    }

    @Test
    void allYesWritesThePreCommitRecordFirstAndThenTellsTheHolderToPrepare() {
        var e = f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(e.logAppends()).containsExactly(new LogRecord.PreCommit("g1", "order", List.of(own(1), own(2))));
        assertThat(e.mustSync()).isTrue();
        assertThat(e.messages()).as("no CAN_COMMIT: the answers are in").isEmpty();
        assertThat(e.replies()).as("not before the record is durable: no branch may prepare before it").isEmpty();

        var durable = f.durable("g1");
        assertThat(durable.replies()).containsExactly(new Reply.PreCommitted("g1", PARTICIPANT_PRE_COMMIT));
        assertThat(durable.messages()).as("the holder prepares its branches itself").isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void theHoldersPreCommitAnswersDecideAndItCommitsItsBranchesItself() {
        preCommitted("g1");
        var decided = preCommitHeld("g1", Vote.YES, Vote.YES);
        assertThat(decided.logAppends()).containsExactly(new LogRecord.Decision("g1", "order", List.of(own(1), own(2))));
        assertThat(decided.replies()).as("not before the decision is durable").isEmpty();
        var durable = f.durable("g1");
        assertThat(durable.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(durable.messages()).as("the holder commits on the connections that prepared them").isEmpty();
        f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.DONE, "a1"));
        var last = f.step(new Event.AckReceived("g1", "b2", Action.COMMIT, AckResult.DONE, "a1"));
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void commitGoesOnTheStreamOnlyWhenTheHoldersAcksDoNotCome() {
        preCommitted("g1");
        preCommitHeld("g1", Vote.YES, Vote.YES);
        long decidedAt = f.now;
        f.durable("g1");
        assertThat(f.tick(decidedAt + 399).messages()).isEmpty();
        assertThat(f.tick(decidedAt + 400).messages()).containsExactly(new Outbound("a1", "g1", "b1", Action.COMMIT),
                new Outbound("a1", "g1", "b2", Action.COMMIT));
    }

    @Test
    void lostFirstAnswerPreCommitGoesOnTheStreamAfterTheLongestResendInterval() {
        f.step(request("g1", Vote.YES, Vote.YES));
        long durableAt = f.now;
        f.durable("g1"); // its reply is lost: the holder's branches wait, XA-ended, under their CAN_COMMIT timers
        assertThat(f.tick(durableAt + 399).messages()).isEmpty();
        assertThat(f.tick(durableAt + 400).messages()).containsExactly(preCommit("g1", 1), preCommit("g1", 2));
        // the agent prepares them on the command and answers on its stream, as on the strict path
        preCommitVote("g1", 1, Vote.YES);
        assertThat(preCommitVote("g1", 2, Vote.YES).logAppends()).hasSize(1).first().isInstanceOf(LogRecord.Decision.class);
        assertThat(f.durable("g1").messages()).as("no holder commits these: COMMIT goes on the stream")
                .containsExactly(new Outbound("a1", "g1", "b1", Action.COMMIT), new Outbound("a1", "g1", "b2", Action.COMMIT));
    }

    @Test
    void lostFirstAnswerAndARollbackByTheCanCommitTimerAborts() {
        f.step(request("g1", Vote.YES, Vote.YES));
        f.durable("g1");
        var e = f.step(new Event.AckReceived("g1", "b1", Action.ROLLBACK, AckResult.DONE, true, "a1"));
        assertThat(e.logAppends()).as("after the PRE_COMMIT record a rollback is written").containsExactly(new LogRecord.Aborted("g1"));
        assertThat(f.durable("g1").replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void lostSecondAnswerTheHoldersInquiryIsAnsweredWithTheDecision() {
        preCommitted("g1");
        preCommitHeld("g1", Vote.YES, Vote.YES);
        f.durable("g1"); // the COMMITTED reply is lost: the agent asks about its prepared branches
        var answered = f.inquiry("g1", 1, "a1");
        assertThat(answered.messages()).containsExactly(new Outbound("a1", "g1", "b1", Action.COMMIT));
    }

    @Test
    void lostSecondRequestTheHoldersInquiryCountsAsAYes() {
        preCommitted("g1"); // the holder prepared both, but its second request never arrived
        f.inquiry("g1", 1, "a1");
        var decided = f.inquiry("g1", 2, "a1");
        assertThat(decided.logAppends()).hasSize(1).first().isInstanceOf(LogRecord.Decision.class);
    }

    @Test
    void aNoAtPreCommitWritesAnAbortedRecordBeforeTheClientHears() {
        preCommitted("g1");
        var no = preCommitHeld("g1", Vote.YES, Vote.NO);
        assertThat(no.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        assertThat(no.replies()).as("not before the Aborted record is durable").isEmpty();
        var durable = f.durable("g1");
        assertThat(durable.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(no.messages()).as("the prepared branch is told at once").containsExactly(new Outbound("a1", "g1", "b1", Action.ROLLBACK),
                new Outbound("a1", "g1", "b2", Action.ROLLBACK));
    }

    @Test
    void secondRequestAfterTheCoordinatorGaveUpGetsRolledBackAndTheLateYesItsRollback() {
        preCommitted("g1");
        var aborted = f.tick(f.now + 700); // the coordinator's PRE_COMMIT timeout
        assertThat(aborted.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
        f.durable("g1");
        var late = preCommitHeld("g1", Vote.YES, Vote.YES);
        assertThat(late.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(late.messages()).extracting(Outbound::action).containsOnly(Action.ROLLBACK);
    }

    @Test
    void preCommitAnswersForAStrictOrUnknownTransactionOrAnotherAgentsBranchAreRefused() {
        assertThat(preCommitHeld("nope", Vote.YES).replies()).singleElement()
                .isInstanceOfSatisfying(Reply.Rejected.class, r -> assertThat(r.code()).isEqualTo(ErrorCode.NOT_FOUND));
        f.step(new Event.Begin("g2", "order", Fixture.DEADLINE));
        assertThat(preCommitHeld("g2", Vote.YES).replies()).singleElement()
                .isInstanceOfSatisfying(Reply.Rejected.class, r -> assertThat(r.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION));
        preCommitted("g3");
        var foreign = f.step(new Event.PreCommitHeld("g3", "a2", List.of(new Event.Voted(own(1), Vote.YES))));
        assertThat(foreign.replies()).singleElement()
                .isInstanceOfSatisfying(Reply.Rejected.class, r -> assertThat(r.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThat(f.c.status("g3")).isEqualTo(TxnStatus.PRE_COMMITTING);
    }

    @Test
    void aNoAtCanCommitRollsBackWithNothingWritten() {
        var e = f.step(request("g1", Vote.YES, Vote.NO));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).extracting(Outbound::action).containsOnly(Action.ROLLBACK);
    }

    @Test
    void allReadOnlyCommitsAtOnceWithNothingWritten() {
        var e = f.step(request("g1", Vote.READ_ONLY, Vote.READ_ONLY));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).contains(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void lostAnswerBeforeTheRecordIsDurableMeansNothingToRestore() {
        f.step(request("g1", Vote.YES, Vote.YES));
        // the coordinator dies before the record is durable: nothing is on disk, so nothing is known.
        var restarted = new Fixture(Coordinator.restore(Fixture.THREE_PHASE, List.of(), 5_000));
        assertThat(restarted.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        // the agent's branches are only XA-ended: their CAN_COMMIT timers roll them back, and an autonomous
        // report about the unknown gtrid changes nothing.
        restarted.step(new Event.AckReceived("g1", "b1", Action.ROLLBACK, AckResult.DONE, true, "a1"));
        assertThat(restarted.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void restartAfterThePreCommitRecordAsksEveryBranchAgainAndNeverPresumesAbort() {
        var record = f.step(request("g1", Vote.YES, Vote.YES)).logAppends().get(0);
        var restarted = new Fixture(Coordinator.restore(Fixture.THREE_PHASE, List.of(record), 5_000));
        assertThat(restarted.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        var resent = restarted.connected(1); // the agent's stream is back: what is pending goes at once
        assertThat(resent.messages()).containsExactly(preCommit("g1", 1), preCommit("g1", 2));
        // a branch that committed on its own while the coordinator was down turns the outcome to COMMIT
        restarted.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.DONE, true, "a1"));
        var decided = restarted.step(new Event.VoteReceived("g1", "b2", Vote.YES, Action.PRE_COMMIT, "a1"));
        assertThat(decided.logAppends()).hasSize(1).first().isInstanceOf(LogRecord.Decision.class);
    }

    @Test
    void theHoldersSecondRequestReachingARestartedCoordinatorCountsAndTheOthersAnswerDecides() {
        var record = f.step(request("g1", Vote.YES, Vote.YES)).logAppends().get(0);
        var restarted = new Fixture(Coordinator.restore(Fixture.THREE_PHASE, List.of(record), 5_000));
        restarted.connected(1);
        // the holder had heard "pre-commit" just before the crash and prepared both; its answers arrive now
        var held = restarted.step(new Event.PreCommitHeld("g1", "a1", List.of(new Event.Voted(own(1), Vote.YES),
                new Event.Voted(own(2), Vote.YES))));
        assertThat(held.logAppends()).hasSize(1).first().isInstanceOf(LogRecord.Decision.class);
        assertThat(restarted.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        // a retried first request to the restarted coordinator is not told to prepare again: it hears the outcome
        assertThat(restarted.step(request("g1", Vote.YES, Vote.YES)).replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void missingPreCommitAnswersAbortAtTheCoordinatorsTimeout() {
        f.step(request("g1", Vote.YES, Vote.YES));
        f.durable("g1");
        preCommitVote("g1", 1, Vote.YES);
        var late = f.tick(f.now + 700);
        assertThat(late.logAppends()).containsExactly(new LogRecord.Aborted("g1"));
    }

    @Test
    void missingCanCommitAnswersCannotHappenButTheDeadlineStillHolds() {
        // every answer is on the request: the CAN_COMMIT deadline has nothing to wait for
        var e = f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(e.logAppends()).hasSize(1);
        assertThat(f.tick(f.now + 500).logAppends()).as("the record is on its way; the deadline is for answers").isEmpty();
    }

    @Test
    void aRepeatedRequestWaitsForOrSaysTheOutcome() {
        f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(f.step(request("g1", Vote.YES, Vote.YES)).logAppends()).as("no second record").isEmpty();
        f.durable("g1");
        assertThat(f.step(request("g1", Vote.YES, Vote.YES)).replies()).containsExactly(new Reply.PreCommitted("g1", PARTICIPANT_PRE_COMMIT));
        preCommitHeld("g1", Vote.YES, Vote.YES);
        f.durable("g1");
        assertThat(f.step(request("g1", Vote.YES, Vote.YES)).replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void aGtridRolledBackByAnInquiryOrBegunStrictlyIsRefused() {
        f.inquiry("g1", 1, "a1");
        assertThat(f.step(request("g1", Vote.YES, Vote.YES)).replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));

        f.step(new Event.Begin("g2", "order", Fixture.DEADLINE));
        assertThat(f.step(request("g2", Vote.YES, Vote.YES)).replies()).singleElement()
                .isInstanceOfSatisfying(Reply.Rejected.class, r -> assertThat(r.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION));
        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.ACTIVE);
    }

    @Test
    void malformedRequestsAreRefusedWithoutATrace() {
        var other = new Event.CanCommitHeld("g1", "order", Fixture.DEADLINE, "a1",
                List.of(new Event.Voted(new Branch("b1", "db1", "a2"), Vote.YES)));
        assertThat(f.step(other).replies()).singleElement().isInstanceOfSatisfying(Reply.Rejected.class, r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(r.request()).isEqualTo(RequestKind.COMMIT);
        });
        assertThat(f.step(new Event.CanCommitHeld("g1", "order", Fixture.DEADLINE, "a1", List.of())).replies())
                .singleElement().isInstanceOf(Reply.Rejected.class);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
    }
}
