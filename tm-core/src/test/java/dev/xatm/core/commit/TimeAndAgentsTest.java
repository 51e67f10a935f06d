package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/** Rules 6, 7 and 8: deadlines, resends with backoff, agents coming and going. */
class TimeAndAgentsTest {
    private final Fixture f = new Fixture();

    // ---- rule 6 ----

    @Test
    void activeTransactionAtItsDeadlineTimesOut() {
        f.begin("g1", 500);
        f.register("g1", 1);
        assertThat(f.tick(499).isEmpty()).isTrue();
        var e = f.tick(500);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.TIMED_OUT));
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void timedOutTransactionWithoutBranchesFinishesAtOnce() {
        f.begin("g1", 500);
        assertThat(f.tick(600).replies()).containsExactly(
                new Reply.Decided("g1", Outcome.TIMED_OUT), new Reply.Finished("g1", Outcome.TIMED_OUT));
    }

    @Test
    void missingVoteAtThePrepareTimeoutAbortsAsRolledBack() {
        f.commitRequested("g1", 2); // vote deadline = 0 + prepareTimeout 1000, before the global 10000
        f.vote("g1", 1, Vote.YES);
        assertThat(f.tick(999).replies()).isEmpty();
        var e = f.tick(1_000);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK), cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void missingVoteAtTheGlobalDeadlineAbortsAsTimedOut() {
        f.begin("g1", 300); // earlier than now + prepareTimeout
        f.register("g1", 1);
        f.register("g1", 2);
        f.commit("g1");
        assertThat(f.tick(300).replies()).containsExactly(new Reply.Decided("g1", Outcome.TIMED_OUT));
    }

    @Test
    void unansweredCommandsAreResentWithDoublingBackoffUpToTheMaximum() {
        f.commitRequested("g1", 1); // COMMIT_ONE_PHASE at 0; initial 100, max 400
        List<Long> sentAt = new ArrayList<>();
        for (long t = 1; t <= 2_500; t++) {
            if (!f.tick(t).messages().isEmpty()) {
                sentAt.add(t);
            }
        }
        // Gaps 100, 200, 400, then 400 forever.
        assertThat(sentAt).containsExactly(100L, 300L, 700L, 1_100L, 1_500L, 1_900L, 2_300L);
    }

    @Test
    void phaseTwoNeverGivesUp() {
        f.committing("g1");
        var e = f.tick(10_000_000);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        assertThat(f.tick(10_000_400).messages()).hasSize(2);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }

    @Test
    void onlyUnansweredCommandsAreResent() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 2, Action.PREPARE));
    }

    @Test
    void aTickThatGoesBackIsIgnored() {
        f.tick(1_000);
        f.begin("g1", 1_500);
        f.tick(10); // not trusted
        f.register("g1", 1);
        f.register("g1", 2);
        f.commit("g1");
        // The vote deadline counts from 1000, not from 10: nothing expires at 1100.
        assertThat(f.tick(1_100).replies()).isEmpty();
    }

    // ---- rule 7 ----

    @Test
    void agentConnectedGetsEverythingPendingAtOnceWithBackoffReset() {
        f.committing("g1");
        f.tick(100);
        f.tick(300);
        f.tick(700); // backoff now at 400
        var e = f.connected(1);
        assertThat(e.messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
        assertThat(f.tick(799).messages()).doesNotContain(cmd("g1", 1, Action.COMMIT));
        assertThat(f.tick(800).messages()).contains(cmd("g1", 1, Action.COMMIT)); // 100 after the reconnect
    }

    // ---- rule 8 ----

    @Test
    void disconnectAbortsActiveTransactionWithABranchOnThatAgent() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        f.begin("g2");
        f.register("g2", 2);
        var e = f.disconnected(1);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        // No message to the gone agent: it has no stream.
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
        assertThat(f.c.status("g2")).isEqualTo(TxnStatus.ACTIVE);
    }

    @Test
    void disconnectAbortsPreparingTransactionWhoseBranchThereHasNotVoted() {
        f.commitRequested("g1", 2);
        f.vote("g1", 2, Vote.YES);
        var e = f.disconnected(1);
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK));
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void disconnectKeepsPreparingTransactionWhoseBranchThereIsPrepared() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        assertThat(f.disconnected(1).isEmpty()).isTrue();
        assertThat(f.vote("g1", 2, Vote.YES).logAppends()).hasSize(1);
        // The decision is durable; a1 is gone, so only a2 gets COMMIT now ...
        assertThat(f.durable("g1").messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
        // ... and a1 gets it when it is back.
        assertThat(f.connected(1).messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void rollbackDoesNotWaitForBranchesOfGoneAgents() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.NO);
        f.ack("g1", 2, Action.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        var e = f.disconnected(1);
        assertThat(e.replies()).containsExactly(new Reply.Finished("g1", Outcome.ROLLED_BACK));
        // When a1 returns it inquires about its prepared b1 and learns the rollback.
        f.connected(1);
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
    }

    @Test
    void rollbackWithEveryBranchOnAGoneAgentFinishesAtOnce() {
        f.disconnected(1);
        f.begin("g1");
        f.register("g1", 1);
        var e = f.rollback("g1");
        assertThat(e.messages()).isEmpty();
        assertThat(e.replies()).containsExactly(new Reply.Decided("g1", Outcome.ROLLED_BACK), new Reply.Finished("g1", Outcome.ROLLED_BACK));
    }

    @Test
    void rollingBackResendsToAnAgentThatReturnsBeforeItFinishes() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO); // ROLLBACK to a1 and a2
        f.disconnected(2);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK); // still waiting for a1
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK)); // nothing to the gone a2
        assertThat(f.connected(2).messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void committingKeepsWaitingForGoneAgents() {
        f.committing("g1");
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.disconnected(1).isEmpty()).isTrue();
        assertThat(f.tick(100_000).messages()).isEmpty(); // a1 has no stream
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(f.connected(1).messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
        assertThat(f.ack("g1", 1, Action.COMMIT).replies()).containsExactly(new Reply.Finished("g1", Outcome.COMMITTED));
    }

    @Test
    void decisionNotYetDurableIsNotAbortedByADisconnect() {
        f.allVotedYes("g1");
        assertThat(f.disconnected(1).isEmpty()).isTrue();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
    }
}
