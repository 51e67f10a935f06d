package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
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

/** Rules 3 and 4: how a commit request starts, how votes decide, and when COMMIT may leave. */
class CommitAndVoteTest {
    private final Fixture f = new Fixture();

    // ---- rule 3 ----

    @Test
    void commitOfUnknownGtridIsNotFoundAndSaysPresumedRolledBack() {
        var r = (Reply.Rejected) f.commit("ghost").replies().get(0);
        assertThat(r.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(r.request()).isEqualTo(RequestKind.COMMIT);
        assertThat(r.message()).contains("never begun").contains("coordinator restart").contains("presumed rolled back");
    }

    @Test
    void commitWithMalformedGtridIsInvalidArgument() {
        assertThat(BeginAndRegisterTest.rejection(f.commit("no way").replies())).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void commitWithoutBranchesCommitsAtOnceWithoutARecord() {
        f.begin("g1");
        var e = f.commit("g1");
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void commitOfFinishedTransactionRepeatsDecidedAndFinished() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.commit("g1").replies()).containsExactly(
                new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void singleBranchCommitsInOnePhaseWithoutARecord() {
        var e = f.commitRequested("g1", 1);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT_ONE_PHASE));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void onePhaseAckDoneCommits() {
        f.commitRequested("g1", 1);
        var e = f.ack("g1", 1, Action.COMMIT_ONE_PHASE);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
    }

    @Test
    void onePhaseRolledBackInsteadIsRolledBack() {
        f.commitRequested("g1", 1);
        var e = f.step(new Event.AckReceived("g1", "b1", Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD, "a1"));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK), new Reply.Finished("g1", Outcome.ROLLED_BACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void onePhaseAgentDisconnectingBeforeTheAnswerIsHeuristicHazard() {
        f.commitRequested("g1", 1);
        var e = f.disconnected(1);
        assertThat(e.replies()).containsExactly(
                new Reply.Decided("g1", Outcome.HEURISTIC_HAZARD), new Reply.Finished("g1", Outcome.HEURISTIC_HAZARD));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC_HAZARD);
        // A late answer changes nothing: the hazard is for an operator to resolve.
        assertThat(f.ack("g1", 1, Action.COMMIT_ONE_PHASE).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_HEURISTIC_HAZARD);
    }

    @Test
    void onePhaseIgnoresOtherAgentsDisconnecting() {
        f.commitRequested("g1", 1);
        assertThat(f.disconnected(2).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void onePhaseIsNeverTimedOutAndKeepsResending() {
        f.begin("g1", 500);
        f.register("g1", 1);
        f.commit("g1");
        var e = f.tick(100_000); // far past the global deadline
        assertThat(e.replies()).isEmpty();
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT_ONE_PHASE));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void twoBranchesGetPrepare() {
        var e = f.commitRequested("g1", 2);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.PREPARE), cmd("g1", 2, Action.PREPARE));
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void commitAskedAgainWhilePreparingIsAnsweredOnlyWhenDecided() {
        f.commitRequested("g1", 2);
        assertThat(f.commit("g1").isEmpty()).isTrue();
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.YES);
        assertThat(f.commit("g1").isEmpty()).isTrue(); // decided, but not durable yet
        assertThat(f.durable("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(f.commit("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
    }

    @Test
    void commitAskedWhileRollingBackAnswersTheRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        assertThat(f.commit("g1").replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    // ---- rule 4 ----

    @Test
    void decisionIsDurableBeforeFirstBranchCommit() {
        var voted = f.allVotedYes("g1");
        assertThat(voted.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(2))));
        assertThat(voted.mustSync()).isTrue();
        assertThat(voted.messages()).isEmpty();
        assertThat(voted.replies()).isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        // However much time passes, nothing commits while the record is not durable.
        assertThat(f.tick(50_000).messages()).isEmpty();
        assertThat(f.connected(1).messages()).isEmpty();

        var durable = f.durable("g1");
        assertThat(durable.messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        assertThat(durable.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(durable.logAppends()).isEmpty();
    }

    @Test
    void decisionListsOnlyTheYesBranchesAndReadOnlyOnesGetNoCommit() {
        f.commitRequested("g1", 3);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.READ_ONLY);
        var e = f.vote("g1", 3, Vote.YES);
        assertThat(e.logAppends()).containsExactly(new LogRecord.Decision("g1", "test", List.of(branch(1), branch(3))));
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 3, Action.COMMIT));
    }

    @Test
    void allReadOnlyCommitsWithoutARecord() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.READ_ONLY);
        var e = f.vote("g1", 2, Vote.READ_ONLY);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.COMMITTED), new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void aNoVoteAbortsAndRollsBackEveryBranchButReadOnlyOnesTheNoVoterIncluded() {
        f.commitRequested("g1", 3);
        f.vote("g1", 1, Vote.READ_ONLY);
        f.vote("g1", 2, Vote.YES);
        var e = f.vote("g1", 3, Vote.NO);
        assertThat(e.logAppends()).isEmpty();
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK), cmd("g1", 3, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void aNoVoteAbortsWithoutWaitingForTheOtherVotes() {
        f.commitRequested("g1", 2);
        var e = f.vote("g1", 1, Vote.NO);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void voteForUnknownGtridOrBqualIsRejectedNotFound() {
        var unknownGtrid = (Reply.Rejected) f.vote("ghost", 1, Vote.YES).replies().get(0);
        assertThat(unknownGtrid.request()).isEqualTo(RequestKind.VOTE);
        assertThat(unknownGtrid.code()).isEqualTo(ErrorCode.NOT_FOUND);
        f.commitRequested("g1", 2);
        var unknownBqual = (Reply.Rejected) f.vote("g1", 7, Vote.YES).replies().get(0);
        assertThat(unknownBqual.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void duplicateVotesAreIgnored() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        assertThat(f.vote("g1", 1, Vote.YES).isEmpty()).isTrue();
        // Even a contradicting duplicate: the first vote counts.
        assertThat(f.vote("g1", 1, Vote.NO).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void lateVotesAfterACommitDecisionAreIgnored() {
        f.committing("g1");
        assertThat(f.vote("g1", 1, Vote.YES).isEmpty()).isTrue();
        assertThat(f.vote("g1", 2, Vote.NO).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void lateYesForARollingBackTransactionIsAnsweredWithRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        // b2's YES was in flight when b1 voted NO.
        assertThat(f.vote("g1", 2, Vote.YES).messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
        assertThat(f.vote("g1", 2, Vote.NO).isEmpty()).isTrue();
    }

    @Test
    void lateYesForARolledBackTransactionIsAnsweredWithRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        f.ack("g1", 1, Action.ROLLBACK);
        f.ack("g1", 2, Action.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(f.vote("g1", 2, Vote.YES).messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void lateYesForACommittedTransactionIsIgnored() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.vote("g1", 1, Vote.YES).isEmpty()).isTrue();
    }

    @Test
    void duplicateDecisionDurableIsIgnored() {
        f.committing("g1");
        assertThat(f.durable("g1").isEmpty()).isTrue();
        assertThat(f.durable("ghost").isEmpty()).isTrue();
    }

    @Test
    void decisionDurableBeforeAnyDecisionIsIgnored() {
        f.commitRequested("g1", 2);
        assertThat(f.durable("g1").isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void voteBeforeCommitIsAskedIsIgnored() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        assertThat(f.vote("g1", 1, Vote.YES).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ACTIVE);
    }
}
