package dev.xatm.server.it;

import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.testkit.TestDb;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The happy and the unhappy paths of one global transaction across PostgreSQL and MariaDB, driven
 * through the real tm-server process: commit, client rollback, a NO vote, and the single-branch
 * one-phase commit.
 */
class TwoPhaseCommitIT extends ServerItSupport {

    /** (a) Two branches, both YES: the rows are visible in both databases and nothing stays prepared. */
    @Test
    void commitMakesTheRowsVisibleInBothDatabases() throws Exception {
        TestAgent agent = startAgent("agent-a");
        Txn t = beginOnBothDatabases(agent, 60_000);

        OutcomeResponse r = tm.commit(t.gtrid(), true);

        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        // wait_for_completion: every branch acknowledged its COMMIT before the answer.
        assertThat(rows(pg)).containsExactly(t.pgRow());
        assertThat(rows(maria)).containsExactly(t.mariaRow());
        assertThat(prepared(pg)).isEmpty();
        assertThat(prepared(maria)).isEmpty();
        assertThat(agent.actionsFor(t.pgXid())).startsWith(PhaseAction.PREPARE).contains(PhaseAction.COMMIT)
                .doesNotContain(PhaseAction.ROLLBACK, PhaseAction.COMMIT_ONE_PHASE);
        assertThat(agent.actionsFor(t.mariaXid())).startsWith(PhaseAction.PREPARE).contains(PhaseAction.COMMIT)
                .doesNotContain(PhaseAction.ROLLBACK, PhaseAction.COMMIT_ONE_PHASE);
        assertThat(tm.status(t.gtrid())).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        // Asking again is answered from memory with the same outcome.
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(agent.violations()).isEmpty();
    }

    /** (b) The client asks for the rollback before commit: both active branches are rolled back. */
    @Test
    void rollbackRequestedByTheClientLeavesNothing() throws Exception {
        TestAgent agent = startAgent("agent-b");
        Txn t = beginOnBothDatabases(agent, 60_000);

        OutcomeResponse r = tm.rollback(t.gtrid());

        assertThat(r.getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        assertThat(agent.actionsFor(t.pgXid())).doesNotContain(PhaseAction.PREPARE, PhaseAction.COMMIT);
        await().atMost(CONVERGE).until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).as("commit after rollback").isEqualTo(Outcome.ROLLED_BACK);
        assertThatThrownBy(() -> tm.registerBranch(t.gtrid(), "late", pg.resourceId(), agent.agentId()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * (c) MariaDB's branch votes NO after PostgreSQL's prepared: the outcome is ROLLED_BACK, the
     * prepared PostgreSQL branch is rolled back, nothing is visible anywhere.
     */
    @Test
    void aNoVoteRollsBackEveryBranch() throws Exception {
        TestAgent agent = startAgent("agent-c");
        Txn t = beginOnBothDatabases(agent, 60_000);
        agent.voteNo(t.mariaXid());

        OutcomeResponse r = tm.commit(t.gtrid(), true);

        assertThat(r.getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        assertThat(agent.actionsFor(t.pgXid())).doesNotContain(PhaseAction.COMMIT);
        assertThat(agent.actionsFor(t.mariaXid())).doesNotContain(PhaseAction.COMMIT);
        await().atMost(CONVERGE).until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * (h) One branch: XA COMMIT ... ONE PHASE, never PREPARE, nothing ever prepared -- once on
     * PostgreSQL and once on MariaDB.
     */
    @Test
    void aSingleBranchCommitsInOnePhase() throws Exception {
        TestAgent agent = startAgent("agent-h");
        for (TestDb db : dbs.both()) {
            String gtrid = newGtrid();
            tm.begin(gtrid, "one-phase", 60_000);
            TestAgent.Branch b = enlist(agent, db, gtrid, "only");
            long row = newRowId();
            b.insert(table, row, gtrid);

            OutcomeResponse r = tm.commit(gtrid, true);

            assertThat(r.getOutcome()).as(db.toString()).isEqualTo(Outcome.COMMITTED);
            assertThat(agent.actionsFor(b.xid())).as(db.toString()).containsOnly(PhaseAction.COMMIT_ONE_PHASE);
            assertThat(rows(db)).as(db.toString()).contains(row);
            assertThat(b.state()).isEqualTo(TestAgent.BranchState.COMMITTED);
            assertThat(tm.status(gtrid)).isEqualTo(TxnStatus.FINISHED_COMMITTED);
        }
        assertThat(rows(pg)).hasSize(1);
        assertThat(rows(maria)).hasSize(1);
        awaitNothingPrepared();
        assertThat(agent.violations()).isEmpty();
    }

    /** The client protocol is authenticated: a wrong token gets UNAUTHENTICATED, and nothing begins. */
    @Test
    void aWrongTokenIsRejected() {
        String gtrid = newGtrid();
        try (TmClient intruder = new TmClient(server.grpcTarget(), "not-the-token", Duration.ofSeconds(10))) {
            assertThatThrownBy(() -> intruder.begin(gtrid, "x", 10_000))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        }
        assertThat(tm.status(gtrid)).as("the refused Begin began nothing").isEqualTo(TxnStatus.UNKNOWN);
    }
}
