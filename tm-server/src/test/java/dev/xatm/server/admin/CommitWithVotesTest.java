package dev.xatm.server.admin;

import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PreparedBranch;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.testkit.FakeAgent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The wire side of the one round trip: a Commit that carries the caller's prepared branches
 * for a gtrid the server never heard of, over real gRPC to the in-process server.
 */
class CommitWithVotesTest extends InProcessServerTest {

    private static CommitRequest.Builder request(String gtrid, FakeAgent agent) {
        return CommitRequest.newBuilder().setGtrid(gtrid).setAgentId(agent.agentId).setAgentSecret(agent.instanceSecret).setName("order").setTimeoutMs(30_000)
                .addPrepared(PreparedBranch.newBuilder().setBqual("b1").setResourceId("db-a").setVote(BranchVote.YES))
                .addPrepared(PreparedBranch.newBuilder().setBqual("b2").setResourceId("db-b").setVote(BranchVote.YES));
    }

    @Test
    void anUnknownGtridWithYesVotesCommitsAndWaitsOnlyForTheAcks() throws Exception {
        FakeAgent agent = agent(false);
        String g = "cwv-" + SEQ.incrementAndGet();
        OutcomeResponse r = client.commit(request(g, agent).build());
        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(agent.commands).as("no PREPARE, and no COMMIT while the holder commits them itself").isEmpty();

        agent.commitAcks(g, "b1", "b2"); // the starter's agent batches them
        await().atMost(Duration.ofSeconds(10)).until(() -> get("/api/v1/transactions/" + g).body().contains("FINISHED_COMMITTED"));
        String detail = get("/api/v1/transactions/" + g).body();
        assertThat(detail).contains("\"name\":\"order\"").contains("prepared by its holder");
        assertThat(agent.commands).isEmpty();
    }

    @Test
    void withoutAcksCommitIsResentToTheHolder() throws Exception {
        FakeAgent agent = agent(false);
        String g = "cwv-" + SEQ.incrementAndGet();
        assertThat(client.commit(request(g, agent).build()).getOutcome()).isEqualTo(Outcome.COMMITTED);
        // retry-max-ms is 400 here: after it, COMMIT goes to both branches like any unanswered command
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.commands.stream()
                .filter(c -> c.getGtrid().equals(g) && c.getAction() == PhaseAction.COMMIT).map(c -> c.getBqual()).distinct().count() == 2);
    }

    @Test
    void aBatchWithOneMalformedAckIsRefusedWhole() throws Exception {
        FakeAgent agent = agent(false);
        String g = "cwv-" + SEQ.incrementAndGet();
        assertThat(client.commit(request(g, agent).build()).getOutcome()).isEqualTo(Outcome.COMMITTED);
        agent.commitAcks(g, "b1", "not a bqual");
        ServerMessage m = agent.next();
        while (m != null && m.hasCommand()) {
            m = agent.next(); // COMMIT resends may come first
        }
        assertThat(m != null && m.hasError()).as("a ProtocolError on the stream, got %s", m).isTrue();
        assertThat(m.getError().getCode()).isEqualTo("INVALID_ARGUMENT");
        assertThat(get("/api/v1/transactions/" + g).body()).as("b1's ack was not taken either").contains("COMMITTING")
                .doesNotContain("FINISHED_COMMITTED");
    }

    @Test
    void malformedPreparedBranchesAreInvalidArgumentAndChangeNothing() throws Exception {
        FakeAgent agent = agent(false);
        String g = "cwv-" + SEQ.incrementAndGet();
        assertInvalid(request(g, agent).addPrepared(PreparedBranch.newBuilder().setBqual("b3").setResourceId("db-c")), "no vote");
        assertInvalid(request(g, agent).addPrepared(PreparedBranch.newBuilder().setBqual("bad bqual").setResourceId("db-c")
                .setVote(BranchVote.YES)), "bqual");
        assertInvalid(request(g, agent).setWaitForCompletion(true), "cannot wait for completion");
        assertInvalid(request(g, agent).setTimeoutMs(-5), "timeout_ms");
        assertInvalid(request(g, agent).addPrepared(PreparedBranch.newBuilder().setBqual("b1").setResourceId("db-a")
                .setVote(BranchVote.YES)), "named twice");
        assertThat(get("/api/v1/transactions/" + g).statusCode()).as("nothing was created").isEqualTo(404);
    }

    private void assertInvalid(CommitRequest.Builder request, String message) {
        assertThatThrownBy(() -> client.commit(request.build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
