package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.testkit.FakeAgent;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three-phase commit as an operator sees it, on the whole server in-process (gRPC with fake agents,
 * the real file log): the protocol and current phase of each transaction in the admin API and in the
 * Prometheus metrics, the participant timeouts on the commands, and a participant's own decision
 * counted and recorded in the history.
 */
class ThreePhaseViewsTest extends InProcessServerTest {

    @Test
    void aThreePhaseCommitShowsItsProtocolPhasesAndHistory() throws Exception {
        FakeAgent a1 = agent(true);
        FakeAgent a2 = agent(true);
        String g = begin(CommitProtocol.THREE_PHASE);
        register(g, "b1", "db-1", a1);
        register(g, "b2", "db-2", a2);

        assertThat(client.commit(CommitRequest.newBuilder().setGtrid(g).setWaitForCompletion(true).build()).getOutcome())
                .isEqualTo(Outcome.COMMITTED);

        assertThat(actions(a1, g)).containsExactly(PhaseAction.CAN_COMMIT, PhaseAction.PRE_COMMIT, PhaseAction.COMMIT);
        assertThat(command(a1, g, PhaseAction.CAN_COMMIT).getParticipantTimeoutMs()).isEqualTo(45_000);
        assertThat(command(a1, g, PhaseAction.PRE_COMMIT).getParticipantTimeoutMs()).isEqualTo(40_000);
        assertThat(command(a1, g, PhaseAction.COMMIT).getParticipantTimeoutMs()).isZero();
        String detail = get("/api/v1/transactions/" + g).body();
        assertThat((String) JsonPath.read(detail, "$.protocol")).isEqualTo("3PC");
        assertThat((String) JsonPath.read(detail, "$.status")).isEqualTo("FINISHED_COMMITTED");
        assertThat((String) JsonPath.read(detail, "$.phase")).isEqualTo("FINISHED");
        List<String> kinds = JsonPath.read(detail, "$.history[*].kind");
        assertThat(kinds).containsSubsequence("BEGUN", "CAN_COMMIT_SENT", "PRE_COMMIT_LOGGED", "PRE_COMMIT_SENT",
                "DECISION_LOGGED", "DECISION_DURABLE", "FINISHED");
    }

    @Test
    void theAdminListAndTheMetricsShowTheCurrentPhaseAndParticipantDecisions() throws Exception {
        FakeAgent a1 = agent(false);
        FakeAgent a2 = agent(false);
        String g = begin(CommitProtocol.THREE_PHASE);
        register(g, "b1", "db-1", a1);
        register(g, "b2", "db-2", a2);
        String twoPhase = begin(CommitProtocol.TWO_PHASE);
        register(twoPhase, "c1", "db-1", a1);
        register(twoPhase, "c2", "db-2", a2);
        double committedOnTheirOwn = metric("xatm_coordinator_participant_decisions_total\\{outcome=\"commit\"}");
        CompletableFuture<?> commit = CompletableFuture.supplyAsync(() -> client.commit(CommitRequest.newBuilder().setGtrid(g).build()));

        await().atMost(Duration.ofSeconds(10)).until(() -> command(a2, g, PhaseAction.CAN_COMMIT) != null);
        assertPhase(g, "ASKING_CAN_COMMIT", "CAN_COMMIT");
        assertThat((String) JsonPath.read(get("/api/v1/transactions/" + twoPhase).body(), "$.protocol")).isEqualTo("2PC");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(metric("xatm_coordinator_transactions_live\\{phase=\"CAN_COMMIT\",protocol=\"3PC\"}")).isEqualTo(1);
            assertThat(metric("xatm_coordinator_transactions_live\\{phase=\"ACTIVE\",protocol=\"2PC\"}")).isEqualTo(1);
        });

        a1.vote(g, "b1", BranchVote.YES, PhaseAction.CAN_COMMIT);
        a2.vote(g, "b2", BranchVote.YES, PhaseAction.CAN_COMMIT);
        await().atMost(Duration.ofSeconds(10)).until(() -> command(a2, g, PhaseAction.PRE_COMMIT) != null);
        assertPhase(g, "PRE_COMMITTING", "PRE_COMMIT");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(metric("xatm_coordinator_transactions_live\\{phase=\"PRE_COMMIT\",protocol=\"3PC\"}")).isEqualTo(1));

        // b1 prepared and, say, its DoCommit was slow: it committed on its own and says so; b2 prepares too.
        a1.vote(g, "b1", BranchVote.YES, PhaseAction.PRE_COMMIT);
        a1.autonomousAck(g, "b1", PhaseAction.COMMIT);
        // a1 and a2 have streams of their own: b2's vote must not overtake b1's report, or the
        // decision (and a COMMIT for b1) could come before the coordinator heard b1 decided
        await().atMost(Duration.ofSeconds(10)).until(() -> JsonPath.<List<String>>read(get("/api/v1/transactions/" + g).body(),
                "$.branches[?(@.bqual == 'b1')].decidedOnItsOwn").contains("COMMIT"));
        a2.vote(g, "b2", BranchVote.YES, PhaseAction.PRE_COMMIT);
        await().atMost(Duration.ofSeconds(10)).until(() -> command(a2, g, PhaseAction.COMMIT) != null);
        a2.ack(g, "b2", PhaseAction.COMMIT);
        commit.get(10, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(5)).until(() -> "FINISHED_COMMITTED".equals(JsonPath.read(get("/api/v1/transactions/" + g).body(), "$.status")));
        String detail = get("/api/v1/transactions/" + g).body();
        List<String> kinds = JsonPath.read(detail, "$.history[*].kind");
        assertThat(kinds).contains("PARTICIPANT_DECIDED");
        List<String> onTheirOwn = JsonPath.read(detail, "$.branches[?(@.bqual == 'b1')].decidedOnItsOwn");
        assertThat(onTheirOwn).containsExactly("COMMIT");
        assertThat(command(a1, g, PhaseAction.COMMIT)).as("no COMMIT for a branch that committed on its own").isNull();
        assertThat(metric("xatm_coordinator_participant_decisions_total\\{outcome=\"commit\"}")).isEqualTo(committedOnTheirOwn + 1);
    }

    // ---------------------------------------------------------------- helpers

    private void assertPhase(String g, String status, String phase) throws Exception {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String list = get("/api/v1/transactions?limit=50").body();
            List<String> phases = JsonPath.read(list, "$[?(@.xid == '" + g + "')].phase");
            List<String> statuses = JsonPath.read(list, "$[?(@.xid == '" + g + "')].status");
            assertThat(phases).containsExactly(phase);
            assertThat(statuses).containsExactly(status);
        });
    }

    private double metric(String nameAndLabels) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/actuator/prometheus")).header("Authorization", "Bearer " + READ_TOKEN).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("(?m)^" + nameAndLabels + " (\\S+)$").matcher(r.body());
        assertThat(m.find()).as(nameAndLabels + " in\n" + r.body()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static List<PhaseAction> actions(FakeAgent agent, String g) {
        return agent.commands.stream().filter(c -> c.getGtrid().equals(g)).map(PhaseCommand::getAction).distinct().toList();
    }

    private static PhaseCommand command(FakeAgent agent, String g, PhaseAction action) {
        return agent.commands.stream().filter(c -> c.getGtrid().equals(g) && c.getAction() == action).findFirst().orElse(null);
    }

    private String begin(CommitProtocol protocol) {
        String g = "tpv-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
        client.begin(BeginRequest.newBuilder().setGtrid(g).setName("three-phase-views").setTimeoutMs(60_000).setProtocol(protocol).build());
        return g;
    }
}
