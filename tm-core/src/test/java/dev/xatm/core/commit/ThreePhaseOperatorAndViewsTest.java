package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.TxnSummary;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator's forced resolutions in the 3PC states (a rollback is allowed while no branch may have
 * committed on its own, a commit never before a durable COMMIT decision) and what the admin views show
 * of a 3PC transaction: its protocol, its phase word, branch phases and who decided on its own.
 */
class ThreePhaseOperatorAndViewsTest {
    private final Fixture f = new Fixture(Fixture.THREE_PHASE);

    // ---- ForceRollback ----

    @Test
    void forceRollbackIsAcceptedInCanCommit() {
        f.canCommitAsked("g1");
        assertResolvedRollingBack(f.forceRollback("g1"), List.of());
    }

    @Test
    void forceRollbackIsAcceptedWhileThePreCommitRecordIsWritten() {
        f.preCommitAppended("g1");
        assertResolvedRollingBack(f.forceRollback("g1"), List.of(new LogRecord.Aborted("g1")));
    }

    @Test
    void forceRollbackIsAcceptedInAFreshPreCommit() {
        f.preCommitSent("g1");
        assertResolvedRollingBack(f.forceRollback("g1"), List.of(new LogRecord.Aborted("g1")));
    }

    @Test
    void forceRollbackIsRefusedInARestoredPreCommit() {
        Fixture r = new Fixture(Coordinator.restore(Fixture.THREE_PHASE,
                List.of(new LogRecord.PreCommit("g1", "n", List.of(branch(1), branch(2)))), 0));
        var e = r.forceRollback("g1");
        assertRefused(e, RequestKind.FORCE_ROLLBACK);
        assertThat(((Reply.Rejected) e.replies().get(0)).message()).contains("committed on its own");
        assertThat(r.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        assertThat(r.c.views().detail("g1", 0).orElseThrow().history()).extracting(HistoryEntry::kind).contains(Kind.FORCE_REFUSED);
        assertRefused(r.forceCommit("g1"), RequestKind.FORCE_COMMIT);
    }

    // ---- ForceCommit ----

    @Test
    void forceCommitIsRefusedInEveryThreePhaseStateBeforeTheDecision() {
        f.canCommitAsked("g1");
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT);
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT);
        f.durable("g1");
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT);
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.PRE_COMMITTING);
        f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertRefused(f.forceCommit("g1"), RequestKind.FORCE_COMMIT); // being written, not durable
        f.durable("g1");
        var accepted = f.forceCommit("g1");
        assertThat(accepted.replies()).singleElement().isInstanceOf(Reply.Resolved.class);
        assertThat(accepted.messages()).extracting(m -> m.action()).containsOnly(Action.COMMIT);
    }

    // ---- admin views ----

    @Test
    void aThreePhaseCommitShowsItsProtocolAndEachPhase() {
        f.begin("g1");
        assertThat(summary("g1").protocol()).isEqualTo("3PC");
        assertThat(summary("g1").phase()).isEqualTo("ACTIVE");
        f.register("g1", 1);
        f.register("g1", 2);
        f.commit("g1");
        assertThat(summary("g1").phase()).isEqualTo("CAN_COMMIT");
        assertThat(summary("g1").status()).isEqualTo(TxnStatus.ASKING_CAN_COMMIT);
        assertThat(branchPhases("g1")).containsExactly("ASKED", "ASKED");
        f.vote("g1", 1, Vote.YES, Action.CAN_COMMIT);
        assertThat(branchPhases("g1")).containsExactly("WILLING", "ASKED");
        f.vote("g1", 2, Vote.YES, Action.CAN_COMMIT);
        assertThat(summary("g1").phase()).isEqualTo("PRE_COMMIT");
        f.durable("g1");
        assertThat(summary("g1").phase()).isEqualTo("PRE_COMMIT");
        assertThat(branchPhases("g1")).containsExactly("PRE_COMMITTING", "PRE_COMMITTING");
        f.vote("g1", 1, Vote.YES, Action.PRE_COMMIT);
        f.vote("g1", 2, Vote.YES, Action.PRE_COMMIT);
        assertThat(summary("g1").phase()).isEqualTo("DO_COMMIT");
        f.durable("g1");
        assertThat(summary("g1").phase()).isEqualTo("DO_COMMIT");
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);
        assertThat(summary("g1").phase()).isEqualTo("FINISHED");
        assertThat(summary("g1").protocol()).isEqualTo("3PC");
        assertThat(f.c.views().detail("g1", 0).orElseThrow().history()).extracting(HistoryEntry::kind).containsSubsequence(
                Kind.BEGUN, Kind.COMMIT_REQUESTED, Kind.CAN_COMMIT_SENT, Kind.VOTE, Kind.VOTE, Kind.PRE_COMMIT_LOGGED,
                Kind.PRE_COMMIT_SENT, Kind.VOTE, Kind.VOTE, Kind.DECISION_LOGGED, Kind.DECISION_DURABLE, Kind.FINISHED);
    }

    @Test
    void aThreePhaseAbortIsShownAsAbort() {
        f.canCommitAsked("g1");
        f.vote("g1", 1, Vote.NO, Action.CAN_COMMIT);
        assertThat(summary("g1").phase()).isEqualTo("ABORT");
        assertThat(summary("g1").status()).isEqualTo(TxnStatus.ROLLING_BACK);
    }

    @Test
    void twoPhaseAndOnePhaseTransactionsShowTheirOwnWords() {
        f.step(new Event.Begin("g1", "test", Fixture.DEADLINE, Protocol.TWO_PHASE));
        f.register("g1", 1);
        f.register("g1", 2);
        assertThat(summary("g1").protocol()).isEqualTo("2PC");
        f.commit("g1");
        assertThat(summary("g1").phase()).isEqualTo("PREPARE");
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.YES);
        assertThat(summary("g1").phase()).isEqualTo("COMMIT");

        f.step(new Event.Begin("g2", "test", Fixture.DEADLINE, Protocol.TWO_PHASE));
        f.register("g2", 3);
        f.register("g2", 4);
        f.rollback("g2");
        assertThat(summary("g2").phase()).isEqualTo("ROLLBACK");

        f.begin("g3"); // 3PC by default, but one branch commits in one phase
        f.register("g3", 5);
        f.commit("g3");
        assertThat(summary("g3").phase()).isEqualTo("ONE_PHASE");
        assertThat(summary("g3").protocol()).isEqualTo("3PC");
    }

    @Test
    void theBranchViewSaysWhoDecidedOnItsOwn() {
        f.preCommitSent("g1");
        f.decidedOnItsOwn("g1", 1, Action.COMMIT);
        List<BranchView> branches = f.c.views().detail("g1", 0).orElseThrow().branches();
        assertThat(branches).extracting(BranchView::decidedOnItsOwn).containsExactly(Action.COMMIT, null);
        assertThat(f.c.views().list(TxnStatus.PRE_COMMITTING, 10)).extracting(TxnSummary::gtrid).containsExactly("g1");
    }

    // ---- helpers ----

    private void assertResolvedRollingBack(dev.xatm.core.Effects e, List<LogRecord> appends) {
        assertThat(e.replies()).filteredOn(r -> r instanceof Reply.Resolved).singleElement()
                .satisfies(r -> assertThat(((Reply.Resolved) r).status()).isEqualTo(TxnStatus.ROLLING_BACK));
        assertThat(e.logAppends()).isEqualTo(appends);
        assertThat(e.messages()).extracting(m -> m.action()).containsOnly(Action.ROLLBACK);
        assertThat(f.c.status("g1")).isEqualTo(TxnStatus.ROLLING_BACK);
        assertThat(f.c.views().detail("g1", 0).orElseThrow().history()).extracting(HistoryEntry::kind).contains(Kind.FORCED_ROLLBACK);
    }

    private static void assertRefused(dev.xatm.core.Effects e, RequestKind kind) {
        assertThat(e.replies()).singleElement().isInstanceOfSatisfying(Reply.Rejected.class, r -> {
            assertThat(r.request()).isEqualTo(kind);
            assertThat(r.code()).isEqualTo(ErrorCode.FAILED_PRECONDITION);
        });
        assertThat(e.messages()).isEmpty();
        assertThat(e.logAppends()).isEmpty();
    }

    private TxnSummary summary(String gtrid) {
        return f.c.views().detail(gtrid, 0).orElseThrow().summary();
    }

    private List<String> branchPhases(String gtrid) {
        return f.c.views().detail(gtrid, 0).orElseThrow().branches().stream().map(BranchView::phase).toList();
    }
}
