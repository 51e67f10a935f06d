package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.TxnStatus;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * tm-server killed with SIGKILL at the two crash points that matter for 2PC,
 * then restarted on the same log directory: a durable COMMIT decision is carried out, an undecided
 * transaction is rolled back (presumed abort), and nothing stays prepared in either database.
 */
class CrashRecoveryIT extends ServerItSupport {

    /**
     * (f) The decision is durable (Commit answered COMMITTED, GetStatus says COMMITTING) but the
     * agent has executed no COMMIT yet. kill -9, restart: the restarted server must finish the commit.
     * The COMMITs the old server sent are thrown away, so only the restarted server's can commit.
     */
    @Test
    void aDurableCommitDecisionSurvivesKill9() throws Exception {
        TestAgent agent = startAgent("agent-f");
        agent.holdCommits();
        Txn t = beginOnBothDatabases(agent, 60_000);

        OutcomeResponse r = tm.commit(t.gtrid(), false);

        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(tm.status(t.gtrid())).isEqualTo(TxnStatus.COMMITTING);
        assertThat(prepared(pg)).containsExactly(t.pgXid());
        assertThat(prepared(maria)).containsExactly(t.mariaXid());
        assertThat(rows(pg)).isEmpty();
        assertThat(rows(maria)).isEmpty();
        int welcomesBefore = agent.welcomes();

        server.kill9();
        await().atMost(CONVERGE).until(() -> !agent.isConnected());
        agent.discardHeldCommits();
        agent.releaseCommits();
        server.restart();
        tm.reconnectNow();

        await("agent reconnected").atMost(CONVERGE).until(() -> agent.welcomes() > welcomesBefore);
        await("rows committed in both databases").atMost(CONVERGE)
                .failFast("the agent was told to ROLLBACK a branch of a durably committed transaction",
                        () -> agent.actionsFor(t.pgXid()).contains(PhaseAction.ROLLBACK)
                                || agent.actionsFor(t.mariaXid()).contains(PhaseAction.ROLLBACK))
                .untilAsserted(() -> {
                    assertThat(rows(pg)).containsExactly(t.pgRow());
                    assertThat(rows(maria)).containsExactly(t.mariaRow());
                });
        awaitNothingPrepared();
        await().atMost(CONVERGE).ignoreExceptions()
                .until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_COMMITTED);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(agent.actionsFor(t.pgXid())).doesNotContain(PhaseAction.ROLLBACK);
        assertThat(agent.actionsFor(t.mariaXid())).doesNotContain(PhaseAction.ROLLBACK);
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * An operator's forced rollback (who, and why) is written to the log: after kill -9 and a restart,
     * which forget the rolled-back transaction itself (presumed abort logs nothing for it), its history
     * still shows the refused commit and the rollback, with the operator, the token's role and the reason.
     */
    @Test
    void anOperatorActionIsInTheHistoryAfterKill9() throws Exception {
        TestAgent agent = startAgent("agent-op");
        Txn t = beginOnBothDatabases(agent, 60_000);
        String path = "/api/v1/transactions/" + t.gtrid();
        assertThat(admin().post(path + "/commit", "{\"reason\":\"INC-7 try commit\"}").statusCode()).isEqualTo(409);
        assertThat(admin().post(path + "/rollback", "{\"reason\":\"INC-7 stuck order\"}").statusCode())
                .isEqualTo(200);
        assertRolledBackEverywhere(t);

        server.kill9();
        server.restart();
        tm.reconnectNow();

        String detail = admin().detail(t.gtrid());
        assertThat(detail).as("the operator actions keep the transaction visible").isNotNull();
        assertThat(com.jayway.jsonpath.JsonPath.<List<String>>read(detail, "$.history[*].kind"))
                .containsExactly("FORCE_REFUSED", "FORCED_ROLLBACK");
        String rollback = com.jayway.jsonpath.JsonPath.read(detail, "$.history[1].detail");
        assertThat(rollback).contains("admin (resolve token)").contains("reason: INC-7 stuck order");
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * Like (f), but the agent dies too and comes back as a new instance under a new agent id, so the
     * restarted server cannot route its pending COMMITs to it: the new agent finds both prepared
     * branches only through XA RECOVER and learns the outcome only from its Inquiry. The answer must
     * be COMMIT: the decision is in the log.
     */
    @Test
    void anInquiryAfterKill9IsAnsweredFromTheDurableDecision() throws Exception {
        TestAgent first = startAgent("agent-f1");
        first.holdCommits();
        Txn t = beginOnBothDatabases(first, 60_000);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(tm.status(t.gtrid())).isEqualTo(TxnStatus.COMMITTING);

        server.kill9();
        first.crash();
        server.restart();
        tm.reconnectNow();
        TestAgent second = startAgent("agent-f2");

        await("rows committed in both databases").atMost(CONVERGE)
                .failFast("the new agent was told to ROLLBACK a branch of a durably committed transaction",
                        () -> second.actionsFor(t.pgXid()).contains(PhaseAction.ROLLBACK)
                                || second.actionsFor(t.mariaXid()).contains(PhaseAction.ROLLBACK))
                .untilAsserted(() -> {
                    assertThat(rows(pg)).containsExactly(t.pgRow());
                    assertThat(rows(maria)).containsExactly(t.mariaRow());
                });
        awaitNothingPrepared();
        assertThat(second.inquiriesSent()).isGreaterThanOrEqualTo(2);
        assertThat(second.violations()).isEmpty();
    }

    /**
     * (g) Both branches are prepared in their databases but the server has no vote yet, hence no
     * decision. kill -9, restart: the agent reconnects and inquires, the server presumes abort,
     * both prepared branches are rolled back.
     */
    @Test
    void preparedBranchesWithoutADecisionAreRolledBackAfterKill9() throws Exception {
        TestAgent agent = startAgent("agent-g");
        Txn t = beginOnBothDatabases(agent, 60_000);
        agent.withholdVote(t.pgXid());
        agent.withholdVote(t.mariaXid());

        CompletableFuture<OutcomeResponse> commit =
                CompletableFuture.supplyAsync(() -> tm.commit(t.gtrid(), false, Duration.ofSeconds(60)));
        await("both branches prepared").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(prepared(pg)).containsExactly(t.pgXid());
            assertThat(prepared(maria)).containsExactly(t.mariaXid());
        });
        assertThat(tm.status(t.gtrid())).isEqualTo(TxnStatus.PREPARING);
        int welcomesBefore = agent.welcomes();

        server.kill9();
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS))
                .as("the caller learns nothing was decided").hasCauseInstanceOf(StatusRuntimeException.class);
        agent.stopWithholdingVotes();
        server.restart();
        tm.reconnectNow();

        await("agent reconnected").atMost(CONVERGE).until(() -> agent.welcomes() > welcomesBefore);
        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        assertThat(agent.inquiriesSent()).as("the agent asked about its prepared branches").isGreaterThanOrEqualTo(2);
        // Since the one-round-trip commit (48132d3) a gtrid presumed aborted on an inquiry is remembered as
        // rolled back, so that a commit with votes still on its way is answered ROLLED_BACK, not NOT_FOUND.
        assertThat(tm.status(t.gtrid())).isEqualTo(TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        for (TmXid xid : List.of(t.pgXid(), t.mariaXid())) {
            assertThat(agent.actionsFor(xid)).doesNotContain(PhaseAction.COMMIT);
            assertThat(agent.received()).anySatisfy(rcv -> {
                assertThat(rcv.xid()).isEqualTo(xid);
                assertThat(rcv.action()).isEqualTo(PhaseAction.ROLLBACK);
                assertThat(rcv.session()).as("ROLLBACK came from the restarted server").isGreaterThan(1);
            });
        }
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * The agent dies after PREPARE while the server waits for its votes: the
     * server aborts when the agent's stream goes, and a new agent instance -- knowing nothing in
     * memory -- finds both branches by XA RECOVER, inquires, and rolls them back on fresh sessions.
     */
    @Test
    void anAgentThatCrashedAfterPrepareIsCleanedUpByItsSuccessor() throws Exception {
        TestAgent first = startAgent("agent-x");
        Txn t = beginOnBothDatabases(first, 60_000);
        first.withholdVote(t.pgXid());
        first.withholdVote(t.mariaXid());
        CompletableFuture<OutcomeResponse> commit =
                CompletableFuture.supplyAsync(() -> tm.commit(t.gtrid(), false, Duration.ofSeconds(60)));
        await("both branches prepared").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(prepared(pg)).containsExactly(t.pgXid());
            assertThat(prepared(maria)).containsExactly(t.mariaXid());
        });

        first.crash();

        assertThat(commit.get(30, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        TestAgent second = startAgent("agent-x");
        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(second.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(second.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        await().atMost(CONVERGE).until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(second.violations()).isEmpty();
    }
}
