package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An agent dies for good with both branches prepared: an operator's forced resolution is carried
 * out through the server's own recovery connections ({@code tm.server.resources.<id>.*}) to
 * PostgreSQL and MariaDB, in the direction the coordinator decided, and nothing stays prepared
 * (the coordinator owns recovery).
 */
class RecoveryConnectionIT extends ServerItSupport {

    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        Map<String, String> p = new LinkedHashMap<>();
        for (var db : dbs.both()) {
            p.put("tm.server.resources." + db.resourceId() + ".url", db.url());
            p.put("tm.server.resources." + db.resourceId() + ".username", db.user());
            p.put("tm.server.resources." + db.resourceId() + ".password", db.password());
        }
        return p;
    }

    @Test
    void aForcedCommitFinishesThroughTheServersConnectionsWhenTheAgentIsGoneForGood() throws Exception {
        TestAgent agent = startAgent("agent-gone-c");
        agent.holdCommits();
        Txn t = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        await().atMost(CONVERGE).until(() -> agent.heldCommitCount() == 2);
        agent.crash(); // and it never comes back

        AdminClient admin = new AdminClient(server);
        await("listed in doubt").atMost(CONVERGE).until(() -> admin.inDoubt().contains(t.gtrid()));
        HttpResponse<String> forced = admin.post("/api/v1/transactions/" + t.gtrid() + "/commit", "{\"reason\":\"it: agent gone for good\"}");
        assertThat(forced.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(forced.body(), "$.message")).contains("recovery connection");
        assertThat(forced.body()).doesNotContain(pg.url()).doesNotContain(maria.url());

        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(rows(pg)).containsExactly(t.pgRow());
            assertThat(rows(maria)).containsExactly(t.mariaRow());
        });
        awaitNothingPrepared();
        await().atMost(CONVERGE).until(() -> admin.status(t.gtrid()).equals("FINISHED_COMMITTED"));
        assertThat(admin.inDoubt()).isEmpty();
    }

    @Test
    void aForcedRollbackCleansUpPreparedBranchesOfAGoneAgent() throws Exception {
        TestAgent agent = startAgent("agent-gone-r");
        Txn t = beginOnBothDatabases(agent, 60_000);
        agent.withholdVote(t.pgXid());
        agent.withholdVote(t.mariaXid());
        CompletableFuture<OutcomeResponse> commit = CompletableFuture.supplyAsync(() -> tm.commit(t.gtrid(), false, Duration.ofSeconds(60)));
        await("both prepared").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(prepared(pg)).containsExactly(t.pgXid());
            assertThat(prepared(maria)).containsExactly(t.mariaXid());
        });
        agent.crash(); // the server rolls back (votes missing) but cannot reach the prepared branches
        assertThat(commit.get(30, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(prepared(pg)).containsExactly(t.pgXid());

        AdminClient admin = new AdminClient(server);
        HttpResponse<String> forced = admin.post("/api/v1/transactions/" + t.gtrid() + "/rollback", "{\"reason\":\"it: agent gone for good\"}");
        assertThat(forced.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(forced.body(), "$.message")).contains("recovery connection");
        assertRolledBackEverywhere(t);
    }
}
