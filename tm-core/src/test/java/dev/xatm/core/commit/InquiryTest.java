package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.Vote;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static dev.xatm.core.commit.Fixture.cmd;
import static org.assertj.core.api.Assertions.assertThat;

/** Rule 9: an agent holding a prepared branch asks for its outcome. */
class InquiryTest {
    private final Fixture f = new Fixture();

    @Test
    void inquiryAboutADurableCommitGetsCommit() {
        f.committing("g1");
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void inquiryFromAnotherAgentReroutesTheBranchOnlyWhenItsAgentIsGone() {
        f.committing("g1");
        f.disconnected(1);
        var e = f.inquiry("g1", 1, "a1-replacement");
        assertThat(e.messages()).containsExactly(new Outbound("a1-replacement", "g1", "b1", Action.COMMIT));
        // Resends now go to the agent that holds the branch.
        assertThat(f.tick(100).messages()).containsExactly(
                new Outbound("a1-replacement", "g1", "b1", Action.COMMIT), cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void inquiryFromAnotherAgentWhileTheHolderIsConnectedIsAnsweredOnceAndTheHolderKeepsTheBranch() {
        // The holder may own the preparing MariaDB session, the only one that can commit the branch.
        f.committing("g1");
        var e = f.inquiry("g1", 1, "a1-other-instance");
        assertThat(e.messages()).containsExactly(new Outbound("a1-other-instance", "g1", "b1", Action.COMMIT));
        assertThat(f.tick(100).messages()).containsExactly(cmd("g1", 1, Action.COMMIT), cmd("g1", 2, Action.COMMIT));
        // The holder's acknowledgement finishes the branch (the other instance's would be refused: ForeignAgentTest).
        f.step(new Event.AckReceived("g1", "b1", Action.COMMIT, dev.xatm.core.AckResult.DONE, "a1"));
        assertThat(f.tick(300).messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void inquiryAboutAnAcknowledgedBranchOfACommittingTransactionGetsCommitAgain() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.COMMIT));
    }

    @Test
    void inquiryAboutARememberedCommitGetsCommit() {
        f.committing("g1");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.inquiry("g1", 2, "a2").messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void inquiryAboutABranchOutsideTheDecisionGetsRollback() {
        f.commitRequested("g1", 3);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.YES);
        f.vote("g1", 3, Vote.READ_ONLY);
        f.durable("g1");
        assertThat(f.inquiry("g1", 3, "a3").messages()).containsExactly(cmd("g1", 3, Action.ROLLBACK));
        assertThat(f.inquiry("g1", 9, "a9").messages()).containsExactly(new Outbound("a9", "g1", "b9", Action.ROLLBACK));
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.inquiry("g1", 3, "a3").messages()).containsExactly(cmd("g1", 3, Action.ROLLBACK));
    }

    @Test
    void inquiryBeforeTheDecisionIsDurableWaitsAndTheDecisionAnswersIt() {
        f.allVotedYes("g1");
        f.disconnected(1);
        assertThat(f.inquiry("g1", 1, "a1-replacement").isEmpty()).isTrue();
        assertThat(f.durable("g1").messages()).containsExactly(
                new Outbound("a1-replacement", "g1", "b1", Action.COMMIT), cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void inquiryWhileActiveOrPreparingSendsNothingNow() {
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        assertThat(f.inquiry("g1", 1, "a1").isEmpty()).isTrue();
        f.commit("g1");
        assertThat(f.inquiry("g1", 1, "a1").isEmpty()).isTrue();
        assertThat(f.inquiry("g1", 9, "a9").isEmpty()).isTrue();
    }

    @Test
    void inquiryAboutARollingBackTransactionGetsRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.NO);
        assertThat(f.inquiry("g1", 1, "a1").messages()).containsExactly(cmd("g1", 1, Action.ROLLBACK));
        assertThat(f.inquiry("g1", 9, "a9").messages()).containsExactly(new Outbound("a9", "g1", "b9", Action.ROLLBACK));
    }

    @Test
    void inquiryAboutARolledBackTransactionGetsRollback() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.NO);
        f.ack("g1", 1, Action.ROLLBACK);
        f.ack("g1", 2, Action.ROLLBACK);
        assertThat(f.inquiry("g1", 2, "a2").messages()).containsExactly(cmd("g1", 2, Action.ROLLBACK));
    }

    @Test
    void inquiryAboutAnUnknownTransactionGetsRollbackPresumedAbort() {
        assertThat(f.inquiry("ghost", 1, "a1").messages()).containsExactly(cmd("ghost", 1, Action.ROLLBACK));
    }

    @Test
    void anInquiryThatMustNotPresumeAbortLeavesAnUnknownGtridUnansweredAndUnremembered() {
        // Another server's gtrid on a shared store, forgotten here between the transport's look and this step.
        var e = f.step(new dev.xatm.core.Event.Inquiry("ghost", "b1", "db1", "a1", false));
        assertThat(e.isEmpty()).isTrue();
        assertThat(f.c.status("ghost")).as("not remembered as presumed aborted either").isEqualTo(dev.xatm.core.TxnStatus.UNKNOWN);
        assertThat(f.inquiry("ghost", 1, "a1").messages()).containsExactly(cmd("ghost", 1, Action.ROLLBACK));
        assertThat(f.c.status("ghost")).isEqualTo(dev.xatm.core.TxnStatus.FINISHED_ROLLED_BACK);
    }

    @Test
    void inquiryAboutAOnePhaseCommitSendsNothing() {
        f.commitRequested("g1", 1);
        assertThat(f.inquiry("g1", 1, "a1").isEmpty()).isTrue();
        f.disconnected(1);
        f.connected(1);
        assertThat(f.inquiry("g1", 1, "a1").isEmpty()).isTrue(); // finished with a hazard: an operator's case
    }

    @Test
    void malformedInquiryIsRejected() {
        var e = f.step(new Event.Inquiry("not ours", "b1", "db1", "a1"));
        assertThat(e.messages()).isEmpty();
        assertThat(((Reply.Rejected) e.replies().get(0)).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void restoredDecisionAnswersAnInquiryWithCommit() {
        var restored = Coordinator.restore(Fixture.CONFIG,
                List.of(new LogRecord.Decision("g1", "n", List.of(branch(1), branch(2)))), 0);
        var e = restored.step(new Event.Inquiry("g1", "b2", "db2", "a2"));
        assertThat(e.messages()).containsExactly(cmd("g1", 2, Action.COMMIT));
    }

    @Test
    void inquiryAboutAnotherClustersGtridIsRefusedNeverPresumedAborted() {
        // Another deployment shares the database server; its agent's prepared branch shows up in our XA RECOVER.
        Fixture mine = new Fixture(Fixture.CONFIG.withClusterId("aaaa1111"));
        String theirs = "xatm:bbbb2222-inst.time.1";

        var e = mine.step(new Event.Inquiry(theirs, "b1", "db1", "a1"));

        assertThat(e.messages()).as("no ROLLBACK for a branch another deployment may have committed").isEmpty();
        assertThat(e.replies()).singleElement().isInstanceOfSatisfying(Reply.Rejected.class, r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION);
            assertThat(r.message()).startsWith("not mine").contains("bbbb2222").contains("aaaa1111");
        });
        assertThat(mine.c.status(theirs)).as("nothing remembered as rolled back").isEqualTo(dev.xatm.core.TxnStatus.UNKNOWN);
    }

    @Test
    void ownAndLegacyGtridsAreStillPresumedAbortedWhenUnknown() {
        Fixture mine = new Fixture(Fixture.CONFIG.withClusterId("aaaa1111"));

        assertThat(mine.step(new Event.Inquiry("xatm:aaaa1111-inst.time.1", "b1", "db1", "a1")).messages())
                .containsExactly(new Outbound("a1", "xatm:aaaa1111-inst.time.1", "b1", Action.ROLLBACK));
        assertThat(mine.step(new Event.Inquiry("xatm:inst.time.2", "b1", "db1", "a1")).messages())
                .as("a gtrid minted before cluster ids names none: answered as before")
                .containsExactly(new Outbound("a1", "xatm:inst.time.2", "b1", Action.ROLLBACK));
    }
}
