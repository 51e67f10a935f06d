package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.HistoryEntry.Kind;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnSummary;
import dev.xatm.core.view.TxnViews;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.xatm.core.commit.Fixture.branch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The read-only admin views: history and timestamps of each transaction, lists newest first with a
 * status filter and a limit, branch details, and the in-doubt rules (outcome not applied past a
 * threshold, a pending branch's agent gone, heuristics).
 */
class AdminViewsTest {
    private final Fixture f = new Fixture(new Coordinator(new CoordinatorConfig(1_000, 100, 400, 3, 100, 100)));

    AdminViewsTest() {
        for (int agent = 1; agent <= 3; agent++) {
            f.connected(agent);
        }
    }

    @Test
    void historyAndTimestampsFollowATwoPhaseCommitFromBeginToFinish() {
        f.tick(10);
        f.begin("g1");
        f.register("g1", 1);
        f.register("g1", 2);
        f.tick(20);
        f.commit("g1");
        f.vote("g1", 1, Vote.YES);
        f.tick(30);
        f.vote("g1", 2, Vote.YES);
        f.durable("g1");
        f.tick(40);
        f.ack("g1", 1, Action.COMMIT);
        f.ack("g1", 2, Action.COMMIT);

        TxnDetail d = detail("g1");
        assertThat(d.history()).extracting(HistoryEntry::kind).containsExactly(
                Kind.BEGUN, Kind.BRANCH_REGISTERED, Kind.BRANCH_REGISTERED, Kind.COMMIT_REQUESTED, Kind.PREPARE_SENT,
                Kind.VOTE, Kind.VOTE, Kind.DECISION_LOGGED, Kind.DECISION_DURABLE, Kind.ACK, Kind.ACK, Kind.FINISHED);
        assertThat(d.history()).extracting(HistoryEntry::atMillis).containsExactly(10L, 10L, 10L, 20L, 20L, 20L, 30L, 30L, 30L, 40L, 40L, 40L);
        assertThat(d.history().get(5).bqual()).isEqualTo("b1");
        assertThat(d.history().get(5).detail()).isEqualTo("YES");
        TxnSummary s = d.summary();
        assertThat(s.status()).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        assertThat(s.outcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(s.protocol()).isEqualTo("2PC");
        assertThat(s.begunMillis()).isEqualTo(10);
        assertThat(s.decidedMillis()).isEqualTo(30);
        assertThat(s.finishedMillis()).isEqualTo(40);
        assertThat(s.restored()).isFalse();
        assertThat(d.inDoubt()).isEmpty();
    }

    @Test
    void historyKeepsTheLastSixtyFourEntriesAndCountsTheDropped() {
        f.begin("g1");
        f.register("g1", 1);
        for (int i = 0; i < 100; i++) {
            f.inquiry("g1", 1, "a1"); // each is noted
        }
        TxnDetail d = detail("g1");
        assertThat(d.history()).hasSize(History.CAPACITY);
        assertThat(d.historyDropped()).isEqualTo(102 - History.CAPACITY);
        assertThat(d.history().get(History.CAPACITY - 1).kind()).isEqualTo(Kind.INQUIRY);
        assertThat(d.summary().begunMillis()).as("timestamps survive dropped entries").isZero();
    }

    @Test
    void anAbortSaysWhyInTheHistory() {
        f.commitRequested("g1", 2);
        f.vote("g1", 2, Vote.NO);
        assertThat(detail("g1").history()).anySatisfy(h -> {
            assertThat(h.kind()).isEqualTo(Kind.ABORTED);
            assertThat(h.detail()).contains("b2 voted NO");
        });
        f.begin("g2", 500);
        f.tick(500);
        assertThat(detail("g2").history()).anySatisfy(h -> assertThat(h.detail()).contains("deadline"));
    }

    @Test
    void listIsNewestFirstWithAStatusFilterAndALimit() {
        f.begin("g1");
        f.begin("g2");
        f.commit("g2"); // no branches: finished committed at once
        f.begin("g3");
        f.begin("g4");
        f.rollback("g4");
        TxnViews v = f.c.views();
        assertThat(v.list(null, 10)).extracting(TxnSummary::gtrid).containsExactly("g4", "g3", "g2", "g1");
        assertThat(v.list(null, 2)).extracting(TxnSummary::gtrid).containsExactly("g4", "g3");
        assertThat(v.list(TxnStatus.ACTIVE, 10)).extracting(TxnSummary::gtrid).containsExactly("g3", "g1");
        assertThat(v.list(TxnStatus.FINISHED_COMMITTED, 10)).extracting(TxnSummary::gtrid).containsExactly("g2");
        assertThat(v.list(TxnStatus.COMMITTING, 10)).isEmpty();
        assertThatThrownBy(() -> v.list(null, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> v.list(null, TxnViews.MAX_LIMIT + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(v.detail("nope", 0)).isEmpty();
    }

    @Test
    void branchDetailsShowResourceAgentVotePendingCommandAndAttempts() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        f.tick(100);
        f.tick(300); // PREPARE to b2 resent at 100 and 300
        f.disconnected(2);
        List<BranchView> branches = detail("g1").branches();
        assertThat(branches).hasSize(2);
        BranchView b1 = branches.get(0);
        assertThat(b1.bqual()).isEqualTo("b1");
        assertThat(b1.resourceId()).isEqualTo("db1");
        assertThat(b1.agentId()).isEqualTo("a1");
        assertThat(b1.agentState()).isEqualTo(BranchView.AgentState.CONNECTED);
        assertThat(b1.vote()).isEqualTo(Vote.YES);
        // the gone agent's unvoted branch aborted the transaction: b1 now waits for its ROLLBACK ack
        assertThat(b1.phase()).isEqualTo("ROLLING_BACK");
        assertThat(b1.pending()).isEqualTo(Action.ROLLBACK);
        BranchView b2 = branches.get(1);
        assertThat(b2.agentState()).isEqualTo(BranchView.AgentState.GONE);
    }

    @Test
    void attemptsCountResendsOfThePendingCommand() {
        f.committing("g1");
        f.tick(100);
        f.tick(300);
        BranchView b1 = detail("g1").branches().get(0);
        assertThat(b1.pending()).isEqualTo(Action.COMMIT);
        assertThat(b1.attempts()).isEqualTo(3);
        assertThat(b1.lastSentMillis()).isEqualTo(300);
    }

    @Test
    void aDecidedOutcomeNotAppliedPastTheThresholdIsInDoubt() {
        f.committing("g1");             // decided at 0
        f.ack("g1", 1, Action.COMMIT);
        f.tick(999);
        assertThat(f.c.views().inDoubt(1_000, 10)).isEmpty();
        f.tick(1_000);
        assertThat(f.c.views().inDoubt(1_000, 10)).singleElement().satisfies(t -> {
            assertThat(t.reasons()).singleElement().satisfies(r -> {
                assertThat(r.kind()).isEqualTo(InDoubtReason.Kind.OUTCOME_NOT_APPLIED);
                assertThat(r.message()).contains("COMMITTED").contains("b2");
            });
        });
        f.ack("g1", 2, Action.COMMIT);
        assertThat(f.c.views().inDoubt(1_000, 10)).isEmpty();
    }

    @Test
    void aPendingBranchWhoseAgentIsGoneIsInDoubtAtOnce() {
        f.committing("g1");
        f.disconnected(2);
        assertThat(f.c.views().inDoubt(60_000, 10)).singleElement().satisfies(t ->
                assertThat(t.reasons()).singleElement().satisfies(r -> {
                    assertThat(r.kind()).isEqualTo(InDoubtReason.Kind.AGENT_GONE);
                    assertThat(r.bqual()).isEqualTo("b2");
                }));
        assertThat(detail("g1").inDoubt()).extracting(InDoubtReason::kind).containsExactly(InDoubtReason.Kind.AGENT_GONE);
        f.connected(2);
        assertThat(f.c.views().inDoubt(60_000, 10)).isEmpty();
    }

    @Test
    void undecidedTransactionsAreNeverInDoubtHowEverOld() {
        f.begin("g1", Long.MAX_VALUE);
        f.register("g1", 1);
        f.commitRequested("g2", 2);
        f.tick(500);
        assertThat(f.c.views().inDoubt(0, 10)).isEmpty();
    }

    @Test
    void aRestoredTransactionSaysSoAndItsPendingBranchesCountFromTheRestart() {
        Fixture after = new Fixture(Coordinator.restore(Fixture.CONFIG,
                List.of(new LogRecord.Decision("g1", "pay", List.of(branch(1), branch(2)))), 5_000));
        TxnDetail d = after.c.views().detail("g1", 0).orElseThrow();
        assertThat(d.summary().restored()).isTrue();
        assertThat(d.summary().begunMillis()).isEqualTo(-1);
        assertThat(d.summary().decidedMillis()).isEqualTo(5_000);
        assertThat(d.history()).extracting(HistoryEntry::kind).containsExactly(Kind.RESTORED);
        assertThat(d.branches()).allSatisfy(b -> assertThat(b.agentState()).isEqualTo(BranchView.AgentState.NOT_SEEN));
        after.tick(5_999);
        assertThat(after.c.views().inDoubt(1_000, 10)).isEmpty();
        after.tick(6_000);
        assertThat(after.c.views().inDoubt(1_000, 10)).hasSize(1);
    }

    /**
     * A rollback finishes without the branch of a gone agent (it still waits for its ROLLBACK: from the
     * returning agent, or an operator's rollback through a recovery connection); that agent, restarted,
     * inquires, gets ROLLBACK and acknowledges it. The finished transaction's branch then shows its final
     * state, ROLLED_BACK with nothing pending.
     */
    @Test
    void aFinishedRollbackShowsTheFinalStateOfABranchItsReturningAgentRolledBack() {
        f.commitRequested("g1", 2);
        f.vote("g1", 1, Vote.YES);
        f.vote("g1", 2, Vote.NO);
        f.ack("g1", 2, Action.ROLLBACK);
        f.disconnected(1);
        TxnDetail finished = detail("g1");
        assertThat(finished.summary().status()).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(finished.branches()).extracting(BranchView::phase).containsExactly("ROLLING_BACK", "ROLLED_BACK");
        assertThat(finished.branches()).extracting(BranchView::pending).containsExactly(Action.ROLLBACK, null);

        f.connected(1);
        f.inquiry("g1", 1, "a1");
        f.ack("g1", 1, Action.ROLLBACK);
        TxnDetail after = detail("g1");
        assertThat(after.summary().status()).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(after.branches()).extracting(BranchView::phase).containsExactly("ROLLED_BACK", "ROLLED_BACK");
        assertThat(after.branches()).extracting(BranchView::pending).containsOnlyNulls();
        assertThat(after.history()).last().satisfies(h -> {
            assertThat(h.kind()).isEqualTo(Kind.ACK);
            assertThat(h.detail()).contains("after the end");
        });
    }

    /**
     * Pages walk the filtered list newest first without repeating or skipping, each with the same total,
     * and the last page says there is no next one; newer arrivals do not shift a page already asked for.
     * Filters: protocol, exact name, minimum age, status.
     */
    @Test
    void pagesWalkTheFilteredListNewestFirstWithATotal() {
        f.tick(0);
        for (int i = 1; i <= 5; i++) {
            f.step(new dev.xatm.core.Event.Begin("p" + i, i % 2 == 0 ? "even" : "odd", 60_000,
                    i == 5 ? dev.xatm.core.Protocol.THREE_PHASE : dev.xatm.core.Protocol.TWO_PHASE));
            f.tick(i * 1_000L);
        }
        TxnViews v = f.c.views();
        dev.xatm.core.view.TxnPage first = v.page(dev.xatm.core.view.TxnQuery.ALL, Long.MAX_VALUE, 2);
        assertThat(first.items()).extracting(TxnSummary::gtrid).containsExactly("p5", "p4");
        assertThat(first.total()).isEqualTo(5);
        f.begin("p6"); // arrives between two pages
        dev.xatm.core.view.TxnPage second = v.page(dev.xatm.core.view.TxnQuery.ALL, first.next(), 2);
        assertThat(second.items()).extracting(TxnSummary::gtrid).containsExactly("p3", "p2");
        dev.xatm.core.view.TxnPage last = v.page(dev.xatm.core.view.TxnQuery.ALL, second.next(), 2);
        assertThat(last.items()).extracting(TxnSummary::gtrid).containsExactly("p1");
        assertThat(last.next()).isEqualTo(-1);
        assertThat(last.total()).isEqualTo(6);

        assertThat(v.page(new dev.xatm.core.view.TxnQuery(null, null, "even", 0), Long.MAX_VALUE, 10).items())
                .extracting(TxnSummary::gtrid).containsExactly("p4", "p2");
        assertThat(v.page(new dev.xatm.core.view.TxnQuery(null, "3PC", null, 0), Long.MAX_VALUE, 10).items())
                .extracting(TxnSummary::gtrid).containsExactly("p5");
        // now 5000: p1 began at 0, p2 at 1000, p3 at 2000 ... p6 at 5000
        assertThat(v.page(new dev.xatm.core.view.TxnQuery(null, null, null, 3_000), Long.MAX_VALUE, 10).items())
                .extracting(TxnSummary::gtrid).containsExactly("p3", "p2", "p1");
        assertThat(v.page(new dev.xatm.core.view.TxnQuery(TxnStatus.FINISHED_COMMITTED, null, null, 0), Long.MAX_VALUE, 10).total()).isZero();
        assertThat(v.page(new dev.xatm.core.view.TxnQuery(null, null, "none", 0), Long.MAX_VALUE, 10))
                .satisfies(p -> {
                    assertThat(p.items()).isEmpty();
                    assertThat(p.next()).isEqualTo(-1);
                });
    }

    private TxnDetail detail(String gtrid) {
        return f.c.views().detail(gtrid, 60_000).orElseThrow();
    }
}
