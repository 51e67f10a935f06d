package dev.xatm.client.agent;

import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.coordinator.PreparedBranch;
import dev.xatm.protocol.GtridOwner;
import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Commit requests with votes travel on the agent's Connect stream to a server whose Welcome says it
 * takes them there, and as Commit calls to one that does not; the answers read the same either way,
 * and a stream that breaks under a waiting request ends the wait at once with "outcome unknown".
 */
class StreamCommitTest {
    private static final List<PreparedBranch> VOTES = List.of(new PreparedBranch("b1", "h2", PreparedBranch.Vote.YES),
            new PreparedBranch("b2", "h2", PreparedBranch.Vote.YES));

    private ClusterHarness h;

    /** Two servers: node 1 takes commits on the stream, node 2 predates it. */
    private void start() throws Exception {
        h = new ClusterHarness(2, 2, 0);
        h.node(1).commitsOnStream = true;
        h.agent.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> h.agent.links().stream().filter(Agent.LinkStatus::connected).count() == 2);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static String owned(int node, String unique) {
        return new GtridOwner(node, ClusterHarness.EPOCH).tag("xatm:" + unique);
    }

    private OutcomeReport commit(String gtrid) {
        return h.streamAccess.commitPrepared(gtrid, "order", 1_000, "agent-1", VOTES);
    }

    @Test
    void onTheStreamWhereTheServerTakesItThereElseTheCommitCall() throws Exception {
        start();
        assertThat(commit(owned(1, "s.1")).outcome()).isEqualTo(GlobalOutcome.COMMITTED);
        assertThat(h.node(1).streamBatches).as("one CommitBatch").containsExactly(1);
        assertThat(h.node(1).commits).singleElement().satisfies(r -> {
            assertThat(r.getPreparedList()).extracting(p -> p.getBqual()).containsExactly("b1", "b2");
            assertThat(r.getAgentSecret()).as("the stream proved the agent in Hello; no secret rides along").isEmpty();
        });

        assertThat(commit(owned(2, "s.2")).outcome()).isEqualTo(GlobalOutcome.COMMITTED);
        assertThat(h.node(2).streamBatches).as("node 2 predates commits on the stream").isEmpty();
        assertThat(h.node(2).commits).singleElement().satisfies(r ->
                assertThat(r.getAgentSecret()).as("the Commit call proves the agent").isEqualTo(h.agent.instanceSecret()));
    }

    @Test
    void aRefusalOnTheStreamReadsAsTheSameRefusalOfTheCommitCall() throws Exception {
        start();
        h.node(1).commitFailure = Status.FAILED_PRECONDITION.withDescription("node 1 (epoch 8) does not own it");
        OutcomeReport refused = commit(owned(1, "s.3"));
        assertThat(refused.outcome()).as("refused before any decision").isEqualTo(GlobalOutcome.ROLLED_BACK);
        assertThat(refused.detail()).contains("does not own it");

        h.node(1).commitFailure = Status.UNAVAILABLE.withDescription("store stalled");
        assertThatThrownBy(() -> commit(owned(1, "s.4"))).isInstanceOf(TmSystemException.class)
                .hasMessageContaining("is unknown").hasMessageContaining("store stalled");

        h.node(1).commitFailure = Status.INVALID_ARGUMENT.withDescription("timeout_ms must be 1..600000");
        assertThatThrownBy(() -> commit(owned(1, "s.5"))).hasMessageContaining("timeout_ms must be");
    }

    @Test
    void aBrokenStreamEndsTheWaitAtOnceWithAnUnknownOutcome() throws Exception {
        start();
        h.node(1).holdCommits = true;
        long start = System.nanoTime();
        CompletableFuture<OutcomeReport> waiting = CompletableFuture.supplyAsync(() -> commit(owned(1, "s.6")));
        await().atMost(Duration.ofSeconds(5)).until(() -> !h.node(1).commits.isEmpty());
        assertThat(waiting).isNotDone();

        h.node(1).breakStream(true);
        assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(TmSystemException.class)
                .hasMessageContaining("is unknown");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("before the 2 s commit timeout").isLessThan(1_900);
    }

    @Test
    void noAnswerByTheCommitTimeoutIsAnUnknownOutcome() throws Exception {
        start();
        h.node(1).holdCommits = true;
        long start = System.nanoTime();
        assertThatThrownBy(() -> commit(owned(1, "s.7"))).isInstanceOf(TmSystemException.class)
                .hasMessageContaining("is unknown");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("waited for the 2 s commit timeout")
                .isGreaterThanOrEqualTo(1_900);
    }

    @Test
    void concurrentCallersAllGetTheirOwnAnswer() throws Exception {
        start();
        List<CompletableFuture<OutcomeReport>> calls = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            String gtrid = owned(1, "c." + i);
            calls.add(CompletableFuture.supplyAsync(() -> commit(gtrid)));
        }
        for (CompletableFuture<OutcomeReport> c : calls) {
            assertThat(c.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(GlobalOutcome.COMMITTED);
        }
        assertThat(h.node(1).streamBatches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(32);
        assertThat(h.node(1).commits).extracting(r -> r.getGtrid()).doesNotHaveDuplicates().hasSize(32);
    }
}
