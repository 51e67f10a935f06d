package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
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
 * Every agent speaks only for its own branches: a vote or acknowledgement carried by the stream of an
 * agent that does not hold the branch is refused with PERMISSION_DENIED and changes nothing, while the
 * holder, and an agent the inquiry rules moved the branch to, are still heard.
 */
class ForeignAgentTest {
    private final Fixture f = new Fixture();

    @Test
    void yesVotesFromAnotherAgentDoNotDecideACommit() {
        f.commitRequested("g1", 2);
        Effects first = f.voteFrom("a3", "g1", 1, Vote.YES);
        Effects second = f.voteFrom("a3", "g1", 2, Vote.YES);

        assertRefused(first, RequestKind.VOTE);
        assertRefused(second, RequestKind.VOTE);
        assertThat(first.logAppends()).isEmpty();
        assertThat(second.logAppends()).as("no decision from votes the holders never gave").isEmpty();
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
        // The holders' own votes still count.
        f.vote("g1", 1, Vote.YES);
        assertThat(f.vote("g1", 2, Vote.YES).logAppends()).containsExactly(new LogRecord.Decision("g1", "test",
                List.of(branch(1), branch(2))));
    }

    @Test
    void aNoFromAnotherAgentDoesNotAbort() {
        f.commitRequested("g1", 2);
        assertRefused(f.voteFrom("a2", "g1", 1, Vote.NO), RequestKind.VOTE);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void anAckFromAnotherAgentLeavesTheBranchPending() {
        f.committing("g1");
        assertRefused(f.ackFrom("a3", "g1", 1, Action.COMMIT), RequestKind.ACK);
        f.ack("g1", 2, Action.COMMIT);

        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.COMMITTING);
        assertThat(f.tick(400).messages()).as("COMMIT still goes to the holder").containsExactly(cmd("g1", 1, Action.COMMIT));
        assertThat(f.ack("g1", 1, Action.COMMIT).replies()).contains(new Reply.Finished("g1", dev.xatm.core.Outcome.COMMITTED));
    }

    @Test
    void aRefusalIsNotedInTheHistoryWithTheAgentThatTried() {
        f.committing("g1");
        f.ackFrom("a3", "g1", 1, Action.COMMIT);
        assertThat(f.c.views().detail("g1", 0).orElseThrow().history())
                .anySatisfy(h -> {
                    assertThat(h.kind()).isEqualTo(HistoryEntry.Kind.FOREIGN_REFUSED);
                    assertThat(h.detail()).contains("a3");
                });
    }

    @Test
    void aOnePhaseCommitCannotBeAcknowledgedByAnotherAgent() {
        f.commitRequested("g1", 1);
        assertRefused(f.ackFrom("a2", "g1", 1, Action.COMMIT_ONE_PHASE), RequestKind.ACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PREPARING);
    }

    @Test
    void aThreePhaseAutonomousCommitFromAnotherAgentIsRefused() {
        Fixture three = new Fixture(Fixture.THREE_PHASE);
        three.preCommitSent("g1");
        Effects e = three.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.DONE, true, "a4"));
        assertRefused(e, RequestKind.ACK);
        assertThat(e.logAppends()).isEmpty();
    }

    @Test
    void aHeuristicFromAnotherAgentDoesNotHoldAFinishedTransaction() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        Effects e = f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.HEURISTIC_MIXED, "a5"));
        assertRefused(e, RequestKind.ACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(f.c.heldCount()).isZero();
    }

    @Test
    void theHolderIsHeard() {
        f.committing("g1");
        assertThat(f.ackFrom("a1", "g1", 1, Action.COMMIT).replies()).isEmpty();
        assertThat(f.ackFrom("a2", "g1", 2, Action.COMMIT).replies())
                .containsExactly(new Reply.Finished("g1", dev.xatm.core.Outcome.COMMITTED));
    }

    @Test
    void anAgentTheInquiryRulesMovedTheBranchToMayAcknowledgeIt() {
        f.committing("g1");
        f.disconnected(1);
        f.inquiry("g1", 1, "a1-replacement"); // the holder is gone: the branch moves
        assertThat(f.ackFrom("a1-replacement", "g1", 1, Action.COMMIT).replies()).isEmpty();
        assertThat(f.ack("g1", 2, Action.COMMIT).replies()).containsExactly(new Reply.Finished("g1", dev.xatm.core.Outcome.COMMITTED));
    }

    @Test
    void anInquirerAnsweredWhileTheHolderIsConnectedMayAcknowledgeOnlyOnceTheHolderIsAway() {
        f.committing("g1");
        assertThat(f.inquiry("g1", 1, "a1-other").messages()).containsExactly(new Outbound("a1-other", "g1", "b1", Action.COMMIT));
        assertRefused(f.ackFrom("a1-other", "g1", 1, Action.COMMIT), RequestKind.ACK);

        f.disconnected(1);
        assertThat(f.ackFrom("a1-other", "g1", 1, Action.COMMIT).replies()).isEmpty();
        assertThat(f.ack("g1", 2, Action.COMMIT).replies()).containsExactly(new Reply.Finished("g1", dev.xatm.core.Outcome.COMMITTED));
    }

    @Test
    void anAgentThatNeverInquiredCannotAcknowledgeEvenWhileTheHolderIsAway() {
        f.committing("g1");
        f.disconnected(1);
        assertRefused(f.ackFrom("a3", "g1", 1, Action.COMMIT), RequestKind.ACK);
    }

    @Test
    void afterARestartAnInquirerWithANewAgentIdFinishesTheBranchOfAnAgentNotSeenSince() {
        // The process that held b1 restarted under a new agent id and found the branch by XA RECOVER.
        Fixture restored = new Fixture(Coordinator.restore(Fixture.CONFIG,
                List.of(new LogRecord.Decision("g1", "test", List.of(branch(1)))), 1_000));
        restored.step(new Event.AgentConnected("a1-new"));
        assertThat(restored.inquiry("g1", 1, "a1-new").messages()).contains(new Outbound("a1-new", "g1", "b1", Action.COMMIT));
        Effects e = restored.ackFrom("a1-new", "g1", 1, Action.COMMIT);
        assertThat(e.replies()).containsExactly(new Reply.Finished("g1", dev.xatm.core.Outcome.COMMITTED));
    }

    @Test
    void aVoteOrAckWithoutItsSenderIsMalformed() {
        f.commitRequested("g1", 2);
        assertThat(f.step(new Event.VoteReceived("g1", "b1", Vote.YES, null)).replies())
                .singleElement().satisfies(r -> assertThat(((Reply.Rejected) r).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThat(f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.DONE, null)).replies())
                .singleElement().satisfies(r -> assertThat(((Reply.Rejected) r).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
    }

    private static void assertRefused(Effects e, RequestKind kind) {
        assertThat(e.replies()).singleElement().satisfies(r -> {
            assertThat(r).isInstanceOf(Reply.Rejected.class);
            Reply.Rejected no = (Reply.Rejected) r;
            assertThat(no.request()).isEqualTo(kind);
            assertThat(no.code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
        });
        assertThat(e.messages()).isEmpty();
    }
}
