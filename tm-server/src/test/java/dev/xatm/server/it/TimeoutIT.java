package dev.xatm.server.it;

import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.TxnStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The server's two clocks: the vote deadline (prepare timeout) and the global deadline. */
class TimeoutIT extends ServerItSupport {
    private static final long PREPARE_TIMEOUT_MS = 1500;

    @Override
    protected Map<String, String> serverProperties() {
        return Map.of("tm.server.prepare-timeout-ms", Long.toString(PREPARE_TIMEOUT_MS));
    }

    /**
     * (d) MariaDB's agent never answers PREPARE: at the vote deadline the server aborts, the prepared
     * PostgreSQL branch and the never-prepared MariaDB branch are both rolled back.
     */
    @Test
    void aMissingVoteTimesOutAndEverythingRollsBack() throws Exception {
        TestAgent agent = startAgent("agent-d");
        Txn t = beginOnBothDatabases(agent, 60_000);
        agent.neverAnswerPrepare(t.mariaXid());

        long started = System.nanoTime();
        OutcomeResponse r = tm.commit(t.gtrid(), false, Duration.ofSeconds(30));
        long elapsedMs = (System.nanoTime() - started) / 1_000_000;

        // The vote deadline, not the (60 s) global one, decided: ROLLED_BACK, not TIMED_OUT.
        assertThat(r.getOutcome()).isEqualTo(Outcome.ROLLED_BACK);
        assertThat(elapsedMs).as("answered at the vote deadline, not before").isGreaterThanOrEqualTo(PREPARE_TIMEOUT_MS - 100);
        assertThat(agent.actionsFor(t.mariaXid())).contains(PhaseAction.PREPARE);
        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        assertThat(agent.actionsFor(t.pgXid())).doesNotContain(PhaseAction.COMMIT);
        await().atMost(CONVERGE).until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * (e) Begin with a short timeout and never commit: the server rolls the transaction back on its
     * own, tells both branches, and a late commit learns it TIMED_OUT.
     */
    @Test
    void theGlobalDeadlineRollsBackAnUncommittedTransaction() throws Exception {
        TestAgent agent = startAgent("agent-e");
        Txn t = beginOnBothDatabases(agent, 1500);

        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertRolledBackEverywhere(t);
        await().atMost(CONVERGE).until(() -> tm.status(t.gtrid()) == TxnStatus.FINISHED_ROLLED_BACK);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).as("a commit after the deadline").isEqualTo(Outcome.TIMED_OUT);
        assertThat(agent.actionsFor(t.pgXid())).containsOnly(PhaseAction.ROLLBACK);
        assertThat(agent.actionsFor(t.mariaXid())).containsOnly(PhaseAction.ROLLBACK);
        assertThat(agent.violations()).isEmpty();
    }
}
