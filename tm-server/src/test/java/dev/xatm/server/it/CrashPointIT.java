package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.server.engine.CrashSwitch;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Every crash point of a two-phase commit, with real processes and real databases: the server halts
 * itself at {@code tm.server.crash-point} (Runtime.halt, as good as kill -9) or the agent dies at its
 * own crash point (its streams and sessions vanish, as in a kill -9 of the business process); then
 * the dead party restarts and the test checks convergence: the rows are right in PostgreSQL and
 * MariaDB, nothing is left prepared, and the admin API tells the story (XA-FACTS §6 A.4-A.6, B.10).
 *
 * <p>2PC only: three-phase commit does not exist yet; its crash points (around its PRE_COMMIT record)
 * will be added to {@code dev.xatm.server.engine.CrashPoint} and run here the same way.
 */
class CrashPointIT extends ServerItSupport {

    /** The server crash point a test arms (its server starts with it). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface ServerCrashPoint {
        String value();
    }

    private AdminClient admin;

    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        ServerCrashPoint armed = info.getTestMethod().map(m -> m.getAnnotation(ServerCrashPoint.class)).orElse(null);
        return armed == null ? Map.of() : Map.of("tm.server.crash-point", armed.value());
    }

    /** Before the decision record: nothing durable, so the restart presumes abort and the agent's inquiries roll back. */
    @Test
    @ServerCrashPoint("before-decision-log")
    void beforeDecisionLogEverythingRollsBack() throws Exception {
        TestAgent agent = startAgent("agent-bdl");
        Txn t = beginOnBothDatabases(agent, 60_000);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("before-decision-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(prepared(pg)).containsExactly(t.pgXid());
        assertThat(prepared(maria)).containsExactly(t.mariaXid());

        restartServer();
        assertRolledBackEverywhere(t);
        HttpResponse<String> gone = admin().get("/api/v1/transactions/" + t.gtrid());
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat((String) JsonPath.read(gone.body(), "$.message")).contains("presumed rolled back");
        assertThat(admin().inDoubt()).isEmpty();
        assertThat(agent.violations()).isEmpty();
    }

    /** After the decision is durable and before any COMMIT: the restart must commit both branches. */
    @Test
    @ServerCrashPoint("after-decision-log")
    void afterDecisionLogTheRestartCommits() throws Exception {
        TestAgent agent = startAgent("agent-adl");
        Txn t = beginOnBothDatabases(agent, 60_000);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("after-decision-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(rows(pg)).isEmpty();
        assertThat(rows(maria)).isEmpty();

        restartServer();
        awaitCommittedEverywhere(t, agent);
        assertRestoredAndFinished(t);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).as("the client's retry hears the truth").isEqualTo(Outcome.COMMITTED);
    }

    /** One branch committed and acknowledged, the other not yet: the restart commits the other (XAER_NOTA for the first is done). */
    @Test
    @ServerCrashPoint("mid-phase-2")
    void midPhaseTwoTheRestartFinishesTheCommit() throws Exception {
        TestAgent agent = startAgent("agent-mp2");
        agent.holdCommits();
        Txn t = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        await("both COMMITs reached the agent").atMost(CONVERGE).until(() -> agent.heldCommitCount() == 2);

        assertThat(agent.releaseCommit(t.pgXid())).isTrue();
        serverHaltsAt("mid-phase-2");
        assertThat(rows(pg)).containsExactly(t.pgRow());
        assertThat(rows(maria)).isEmpty();
        assertThat(prepared(maria)).containsExactly(t.mariaXid());
        agent.discardHeldCommits(); // they died with the stream
        agent.releaseCommits();

        restartServer();
        awaitCommittedEverywhere(t, agent);
        assertRestoredAndFinished(t);
    }

    /** The business process dies right after preparing: the server aborts, the restarted agent rolls back what it finds prepared. */
    @Test
    void agentAfterPrepareEverythingRollsBack() throws Exception {
        TestAgent agent = startAgent("agent-aap");
        agent.crashAt(TestAgent.CrashPoint.AGENT_AFTER_PREPARE);
        Txn t = beginOnBothDatabases(agent, 60_000);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        TmXid died = agent.crashed().get(30, TimeUnit.SECONDS);
        assertThat(commit.get(30, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(prepared(died.bqual().equals("pg") ? pg : maria)).containsExactly(died);

        TestAgent restarted = startAgent("agent-aap");
        assertRolledBackEverywhere(t);
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_ROLLED_BACK"));
        assertThat(admin().historyKinds(t.gtrid())).contains("AGENT_GONE", "ABORTED", "INQUIRY", "FINISHED");
        assertThat(restarted.inquiriesSent()).isGreaterThanOrEqualTo(1);
        assertThat(restarted.violations()).isEmpty();
        assertThat(admin().inDoubt()).isEmpty();
    }

    /**
     * The business process commits one branch in its database and dies before acknowledging: the
     * transaction is in doubt (its agent is gone with a COMMIT pending); a forced rollback is refused,
     * a forced commit is accepted, and the restarted agent finishes it. This is the "a
     * killed-mid-commit transaction in the in-doubt list and then resolved".
     */
    @Test
    void agentBeforeCommitAckIsInDoubtThenResolved() throws Exception {
        TestAgent agent = startAgent("agent-bca");
        agent.crashAt(TestAgent.CrashPoint.AGENT_BEFORE_COMMIT_ACK);
        Txn t = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        agent.crashed().get(30, TimeUnit.SECONDS);

        await("listed in doubt").atMost(CONVERGE).until(() -> admin().inDoubt().contains(t.gtrid()));
        String inDoubt = admin().get("/api/v1/transactions/in-doubt").body();
        assertThat(JsonPath.<List<String>>read(inDoubt, "$[0].reasons[*].kind")).contains("AGENT_GONE");
        HttpResponse<String> rollback = admin().post("/api/v1/transactions/" + t.gtrid() + "/rollback", "{\"operator\":\"it-operator\"}");
        assertThat(rollback.statusCode()).isEqualTo(409);
        assertThat((String) JsonPath.read(rollback.body(), "$.error")).isEqualTo("conflict");
        HttpResponse<String> forced = admin().post("/api/v1/transactions/" + t.gtrid() + "/commit", "{\"operator\":\"it-operator\"}");
        assertThat(forced.statusCode()).isEqualTo(200);

        TestAgent restarted = startAgent("agent-bca");
        awaitCommittedEverywhere(t, restarted);
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_COMMITTED"));
        assertThat(admin().inDoubt()).doesNotContain(t.gtrid());
        assertThat(admin().historyKinds(t.gtrid())).contains("DECISION_DURABLE", "AGENT_GONE", "FORCE_REFUSED", "FORCED_COMMIT", "FINISHED");
    }

    // ---------------------------------------------------------------- helpers

    private AdminClient admin() {
        if (admin == null) {
            admin = new AdminClient(server);
        }
        return admin;
    }

    private CompletableFuture<OutcomeResponse> commitAsync(Txn t) {
        return CompletableFuture.supplyAsync(() -> tm.commit(t.gtrid(), false, Duration.ofSeconds(60)));
    }

    private void serverHaltsAt(String point) {
        assertThat(server.awaitExit(CONVERGE)).as("exit status of a deliberate crash").isEqualTo(CrashSwitch.CRASH_STATUS);
        assertThat(server.output()).contains("CRASH POINT " + point + " reached");
    }

    private void restartServer() {
        server.restart(Map.of("tm.server.crash-point", ""));
        tm.reconnectNow();
    }

    private void awaitCommittedEverywhere(Txn t, TestAgent agent) {
        await("rows committed in both databases").atMost(CONVERGE)
                .failFast("a branch of a durably committed transaction was told to ROLLBACK",
                        () -> agent.actionsFor(t.pgXid()).contains(PhaseAction.ROLLBACK)
                                || agent.actionsFor(t.mariaXid()).contains(PhaseAction.ROLLBACK))
                .untilAsserted(() -> {
                    assertThat(rows(pg)).containsExactly(t.pgRow());
                    assertThat(rows(maria)).containsExactly(t.mariaRow());
                });
        awaitNothingPrepared();
        assertThat(agent.violations()).isEmpty();
    }

    private void assertRestoredAndFinished(Txn t) {
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_COMMITTED"));
        String detail = admin().detail(t.gtrid());
        assertThat((Boolean) JsonPath.read(detail, "$.restored")).isTrue();
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind")).contains("RESTORED", "ACK", "FINISHED");
        assertThat(admin().inDoubt()).isEmpty();
    }
}
