package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * the one round trip: the initiator's agent prepares its own branches and brings their votes
 * on the commit request, for a transaction the coordinator may never have heard of.
 */
class CommitPreparedTest {
    private final Fixture f = new Fixture();

    /** Branches "bN" on database "dbN", all held by agent "a1" (the requester). */
    private static Branch own(int n) {
        return new Branch("b" + n, "db" + n, "a1");
    }

    private Event.CommitPrepared request(String gtrid, Vote... votes) {
        List<Event.Voted> voted = new java.util.ArrayList<>();
        for (int i = 0; i < votes.length; i++) {
            voted.add(new Event.Voted(own(i + 1), votes[i]));
        }
        return new Event.CommitPrepared(gtrid, "order", Fixture.DEADLINE, "a1", voted);
    }

    @Test
    void unknownTransactionWithAllYesLogsOneDecisionAndSendsNothing() {
        var e = f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(e.logAppends()).containsExactly(new LogRecord.Decision("g1", "order", List.of(own(1), own(2))));
        assertThat(e.messages()).isEmpty(); // no PREPARE: the votes are in
        assertThat(e.replies()).isEmpty();  // not before the decision is durable
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);

        var durable = f.durable("g1");
        assertThat(durable.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(durable.messages()).as("the holder commits its own branches on hearing the reply").isEmpty();
    }

    @Test
    void holderAcksFinishTheTransactionWithALazyCompletion() {
        f.step(request("g1", Vote.YES, Vote.YES));
        f.durable("g1");
        f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, dev.xatm.core.AckResult.DONE, "a1"));
        var last = f.step(new Event.AckReceived("g1", "b2", Action.COMMIT, dev.xatm.core.AckResult.DONE, "a1"));
        assertThat(last.logAppends()).containsExactly(new LogRecord.Completed("g1"));
        assertThat(last.mustSync()).isFalse();
        assertThat(last.replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void withoutAnAckCommitIsResentOnlyAfterTheLongestResendInterval() {
        f.step(request("g1", Vote.YES, Vote.YES));
        f.durable("g1");
        // CONFIG: retry max 400 ms. Before it, nothing; then COMMIT to both, as for any unanswered command.
        assertThat(f.tick(399).messages()).isEmpty();
        assertThat(f.tick(400).messages()).containsExactlyInAnyOrder(
                new dev.xatm.core.Outbound("a1", "g1", "b1", Action.COMMIT), new dev.xatm.core.Outbound("a1", "g1", "b2", Action.COMMIT));
    }

    @Test
    void readOnlyVotesOnlyFinishWithoutARecord() {
        var e = f.step(request("g1", Vote.READ_ONLY, Vote.READ_ONLY));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).contains(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void aNoVoteRollsBackEveryOtherBranch() {
        var e = f.step(request("g1", Vote.YES, Vote.NO));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).contains(new dev.xatm.core.Outbound("a1", "g1", "b1", Action.ROLLBACK));
    }

    @Test
    void branchesOfOtherAgentsRegisteredEarlierAreAskedToPrepare() {
        f.begin("g1");                  // the xid went downstream, so the client began it
        f.register("g1", 2);            // b2 on agent a2, a downstream service
        var e = f.step(new Event.CommitPrepared("g1", "order", Fixture.DEADLINE, "a1", List.of(new Event.Voted(own(1), Vote.YES))));
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.PREPARE));
        assertThat(e.logAppends()).isEmpty();
        var voted = f.vote("g1", 2, Vote.YES);
        assertThat(voted.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(2), own(1))));
        var durable = f.durable("g1");
        assertThat(durable.messages()).containsExactly(cmd("g1", 2, Action.COMMIT)); // only the other agent's branch
        assertThat(durable.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void aRepeatedRequestGetsTheSameOutcome() {
        f.step(request("g1", Vote.YES, Vote.YES));
        f.durable("g1");
        var again = f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(again.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(again.logAppends()).isEmpty();
    }

    @Test
    void anInquiryBeforeTheRequestMakesItRollBack() {
        // The agent asked about a prepared branch the coordinator did not know: ROLLBACK, remembered.
        var inquiry = f.inquiry("g1", 1, "a1");
        assertThat(inquiry.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
        var late = f.step(request("g1", Vote.YES, Vote.YES));
        assertThat(late.logAppends()).as("no COMMIT around a branch already told to roll back").isEmpty();
        assertThat(late.replies()).contains(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void malformedRequestsAreRefusedAndChangeNothing() {
        assertRefused(new Event.CommitPrepared("no way", "", Fixture.DEADLINE, "a1", List.of(new Event.Voted(own(1), Vote.YES))),
                ErrorCode.INVALID_ARGUMENT, "malformed gtrid");
        assertRefused(new Event.CommitPrepared("g1", "", Fixture.DEADLINE, "a1", List.of()), ErrorCode.INVALID_ARGUMENT, "at least one");
        assertRefused(new Event.CommitPrepared("g1", "", Fixture.DEADLINE, "a1", List.of(new Event.Voted(branch(2), Vote.YES))),
                ErrorCode.INVALID_ARGUMENT, "not by the requesting agent");
        assertRefused(new Event.CommitPrepared("g1", "", Fixture.DEADLINE, "a1",
                List.of(new Event.Voted(own(1), Vote.YES), new Event.Voted(own(1), Vote.YES))), ErrorCode.INVALID_ARGUMENT, "named twice");
        assertRefused(new Event.CommitPrepared("g1", "", Fixture.DEADLINE, "a1", List.of(new Event.Voted(own(1), null))),
                ErrorCode.INVALID_ARGUMENT, "a vote");
        // CONFIG allows 3 branches per transaction
        assertRefused(request("g1", Vote.YES, Vote.YES, Vote.YES, Vote.YES), ErrorCode.RESOURCE_EXHAUSTED, "maximum");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.UNKNOWN);
        assertThat(f.c.liveCount()).isZero();
    }

    @Test
    void aBranchRegisteredWithOtherAttributesIsRefused() {
        f.begin("g1");
        f.step(new Event.RegisterBranch("g1", new Branch("b1", "other-db", "a1")));
        assertRefused(request("g1", Vote.YES, Vote.YES), ErrorCode.ALREADY_EXISTS, "other attributes");
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);
    }

    @Test
    void aThreePhaseTransactionIsRefused() {
        f.step(new Event.Begin("g1", "t", Fixture.DEADLINE, dev.xatm.core.Protocol.THREE_PHASE));
        assertRefused(request("g1", Vote.YES, Vote.YES), ErrorCode.FAILED_PRECONDITION, "two-phase only");
    }

    @Test
    void aRestartBeforeTheAcksResendsCommitToTheHolder() {
        var e = f.step(request("g1", Vote.YES, Vote.YES));
        Coordinator restored = Coordinator.restore(Fixture.CONFIG, e.logAppends(), 5_000);
        var first = restored.step(new Event.AgentConnected("a1"));
        assertThat(first.messages()).containsExactlyInAnyOrder(
                new dev.xatm.core.Outbound("a1", "g1", "b1", Action.COMMIT), new dev.xatm.core.Outbound("a1", "g1", "b2", Action.COMMIT));
    }

    private void assertRefused(Event.CommitPrepared request, ErrorCode code, String message) {
        var e = f.step(request);
        assertThat(e.replies()).hasSize(1);
        var r = (Reply.Rejected) e.replies().get(0);
        assertThat(r.code()).isEqualTo(code);
        assertThat(r.request()).isEqualTo(RequestKind.COMMIT);
        assertThat(r.message()).contains(message);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
    }
}
