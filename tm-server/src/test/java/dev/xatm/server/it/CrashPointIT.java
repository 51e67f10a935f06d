package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.xatm.protocol.v1.CommitProtocol.THREE_PHASE;
import static dev.xatm.protocol.v1.CommitProtocol.TWO_PHASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * Every crash point of a commit, for two-phase and three-phase commit alike, with real processes and
 * real databases: the server halts itself at {@code tm.server.crash-point} (Runtime.halt, as good as
 * kill -9) or the agent dies at its own crash point (its streams and sessions vanish, as in a kill -9
 * of the business process); then the dead party restarts and the test checks convergence: the rows
 * are right in PostgreSQL and MariaDB, nothing is left prepared, and the admin API tells the story
 *.
 *
 * <p>The class runs once per protocol. The points are the driver's (log appends, durable records,
 * acks), so most exist in both; where the protocols then disagree -- before the COMMIT record, 3PC
 * has a durable PRE_COMMIT record and must not presume abort -- the test says so. 3PC adds the two
 * points around its PRE_COMMIT record and the agent's death after CAN_COMMIT; in the 2PC run those
 * are skipped. For 3PC, "agent-after-prepare" is the XA PREPARE of PRE_COMMIT.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = CommitProtocol.class, names = {"TWO_PHASE", "THREE_PHASE"})
class CrashPointIT extends ServerItSupport {

    /** The server crash point a test arms (its server starts with it). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface ServerCrashPoint {
        String value();
    }

    /** A crash point that only three-phase commit has. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    @interface ThreePhaseOnly {}

    private final CommitProtocol protocol;

    CrashPointIT(CommitProtocol protocol) {
        this.protocol = protocol;
    }

    @Override
    protected String variant() {
        return "-" + (protocol == THREE_PHASE ? "3pc" : "2pc");
    }

    @Override
    protected void assumeApplies(TestInfo info) {
        boolean threePhaseOnly = info.getTestMethod().map(m -> m.isAnnotationPresent(ThreePhaseOnly.class)).orElse(false);
        assumeThat(!threePhaseOnly || protocol == THREE_PHASE).as("a three-phase crash point").isTrue();
    }

    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        Map<String, String> p = new LinkedHashMap<>();
        info.getTestMethod().map(m -> m.getAnnotation(ServerCrashPoint.class))
                .ifPresent(armed -> p.put("tm.server.crash-point", armed.value()));
        if (protocol == THREE_PHASE) {
            // Quick aborts; a participant willing after CAN_COMMIT rolls back after 3 s (that is what
            // frees the branches of a coordinator that died before its PRE_COMMIT record). One that is
            // prepared keeps the default 30 s: here the coordinator's recovery finishes phase 2, the
            // participants' own commits are ThreePhaseCommitIT's subject.
            p.put("tm.server.three-phase.can-commit-timeout-ms", "2000");
            p.put("tm.server.three-phase.pre-commit-timeout-ms", "2000");
            p.put("tm.server.three-phase.participant-can-commit-timeout-ms", "3000");
        }
        return p;
    }

    /**
     * Every vote is in, the COMMIT record is not. 2PC: nothing is durable, so the restart presumes
     * abort and the agent's inquiries roll back. 3PC: the PRE_COMMIT record is durable, so the restart
     * never presumes; it asks the branches again, they are still prepared and say YES, and it commits.
     */
    @Test
    @ServerCrashPoint("before-decision-log")
    void beforeDecisionLog2pcRollsBackAnd3pcCommits() throws Exception {
        TestAgent agent = startAgent("agent-bdl");
        Txn t = begin(agent);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("before-decision-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(prepared(pg)).containsExactly(t.pgXid());
        assertThat(prepared(maria)).containsExactly(t.mariaXid());

        restartServer();
        if (protocol == TWO_PHASE) {
            assertRolledBackEverywhere(t);
            // unknown after the restart; the agents' inquiries were answered ROLLBACK, and that is remembered
            HttpResponse<String> presumed = admin().get("/api/v1/transactions/" + t.gtrid());
            assertThat(presumed.statusCode()).isEqualTo(200);
            assertThat((String) JsonPath.read(presumed.body(), "$.status")).isEqualTo("FINISHED_ROLLED_BACK");
            assertThat(presumed.body()).contains("presumed aborted");
            assertThat(admin().inDoubt()).isEmpty();
        } else {
            awaitCommittedEverywhere(t, agent);
            assertRestoredAndFinished(t);
            assertThat(admin().historyKinds(t.gtrid())).contains("DECISION_DURABLE");
            assertThat(agent.decidedOnTheirOwn()).as("the coordinator decided, not the participants' timers").isEmpty();
        }
        assertThat(agent.violations()).isEmpty();
    }

    /** After the decision is durable and before any COMMIT: the restart must commit both branches. */
    @Test
    @ServerCrashPoint("after-decision-log")
    void afterDecisionLogTheRestartCommits() throws Exception {
        TestAgent agent = startAgent("agent-adl");
        Txn t = begin(agent);
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
        Txn t = begin(agent);
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
        Txn t = begin(agent);
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
        // the finished transaction shows the branch the restarted agent rolled back in its final state
        // (only that one: a branch the agent had not prepared died with its session, and nobody
        // acknowledges it)
        String bqual = died.bqual();
        await("the restarted agent's ROLLBACK acknowledged").atMost(CONVERGE).untilAsserted(() -> {
            String detail = admin().detail(t.gtrid());
            assertThat(JsonPath.<List<String>>read(detail, "$.branches[?(@.bqual == '" + bqual + "')].status")).containsOnly("ROLLED_BACK");
            assertThat(JsonPath.<List<Object>>read(detail, "$.branches[?(@.bqual == '" + bqual + "')].pendingCommand")).containsOnlyNulls();
        });
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
        Txn t = begin(agent);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.COMMITTED);
        agent.crashed().get(30, TimeUnit.SECONDS);

        await("listed in doubt").atMost(CONVERGE).until(() -> admin().inDoubt().contains(t.gtrid()));
        String inDoubt = admin().get("/api/v1/transactions/in-doubt").body();
        assertThat(JsonPath.<List<String>>read(inDoubt, "$[0].reasons[*].kind")).contains("AGENT_GONE");
        HttpResponse<String> rollback = admin().post("/api/v1/transactions/" + t.gtrid() + "/rollback", "{\"reason\":\"it: crash point\"}");
        assertThat(rollback.statusCode()).isEqualTo(409);
        assertThat((String) JsonPath.read(rollback.body(), "$.error")).isEqualTo("conflict");
        HttpResponse<String> forced = admin().post("/api/v1/transactions/" + t.gtrid() + "/commit", "{\"reason\":\"it: crash point\"}");
        assertThat(forced.statusCode()).isEqualTo(200);

        TestAgent restarted = startAgent("agent-bca");
        awaitCommittedEverywhere(t, restarted);
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_COMMITTED"));
        assertThat(admin().inDoubt()).doesNotContain(t.gtrid());
        assertThat(admin().historyKinds(t.gtrid())).contains("DECISION_DURABLE", "AGENT_GONE", "FORCE_REFUSED", "FORCED_COMMIT", "FINISHED");
    }

    /**
     * 3PC: every branch is willing, the PRE_COMMIT record is not durable. Nothing is prepared and
     * nothing logged, so the restarted server knows nothing; the agent rolls its willing branches back
     * as soon as the stream breaks (nothing of them is prepared; the server aborts or forgot them),
     * before any CAN_COMMIT timer runs out.
     */
    @Test
    @ThreePhaseOnly
    @ServerCrashPoint("before-pre-commit-log")
    void beforePreCommitLogTheParticipantsRollBackOnTheirOwn() throws Exception {
        TestAgent agent = startAgent("agent-bpl");
        Txn t = begin(agent);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("before-pre-commit-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(prepared(pg)).isEmpty();
        assertThat(prepared(maria)).isEmpty();
        await("both branches rolled back with the lost stream").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        assertThat(agent.decidedOnTheirOwn()).as("the lost stream, not a timer, rolled them back").isEmpty();

        restartServer();
        assertRolledBackEverywhere(t);
        HttpResponse<String> gone = admin().get("/api/v1/transactions/" + t.gtrid());
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat((String) JsonPath.read(gone.body(), "$.message")).contains("presumed rolled back");
        assertThat(admin().inDoubt()).isEmpty();
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * 3PC: the PRE_COMMIT record is durable, no PRE_COMMIT went out. The agent does not notice the
     * stream break (a half-open connection), so its willing branches wait for their CAN_COMMIT timers
     * and roll back on their own while the server is down (the test waits for that, so the outcome is
     * certain); the restarted server finds the record, never presumes, asks again, hears the own
     * rollbacks and aborts. (An agent that notices rolls them back at once, as in the test above, and
     * answers the resent PRE_COMMIT with NO.)
     */
    @Test
    @ThreePhaseOnly
    @ServerCrashPoint("after-pre-commit-log")
    void afterPreCommitLogTheRestartAsksAgainAndAborts() throws Exception {
        TestAgent agent = startAgent("agent-apl");
        agent.deafToStreamLoss();
        Txn t = begin(agent);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("after-pre-commit-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        assertThat(prepared(pg)).as("no PRE_COMMIT left before the crash").isEmpty();
        assertThat(prepared(maria)).isEmpty();
        awaitOwnRollbacks(agent, t);

        restartServer();
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_ROLLED_BACK"));
        String detail = admin().detail(t.gtrid());
        assertThat((Boolean) JsonPath.read(detail, "$.restored")).isTrue();
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind")).contains("RESTORED", "PARTICIPANT_DECIDED", "ABORTED", "FINISHED");
        assertRolledBackEverywhere(t);
        assertThat(admin().inDoubt()).isEmpty();
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).as("the client's retry hears the truth").isEqualTo(Outcome.ROLLED_BACK);
        assertThat(agent.violations()).isEmpty();
    }

    /** 3PC: the business process dies right after its YES to CAN_COMMIT: nothing is prepared, the server aborts. */
    @Test
    @ThreePhaseOnly
    void agentAfterCanCommitEverythingRollsBack() throws Exception {
        TestAgent agent = startAgent("agent-acc");
        agent.crashAt(TestAgent.CrashPoint.AGENT_AFTER_CAN_COMMIT);
        Txn t = begin(agent);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        agent.crashed().get(30, TimeUnit.SECONDS);
        assertThat(commit.get(30, TimeUnit.SECONDS).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);

        TestAgent restarted = startAgent("agent-acc");
        assertRolledBackEverywhere(t);
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_ROLLED_BACK"));
        assertThat(admin().historyKinds(t.gtrid())).contains("CAN_COMMIT_SENT", "AGENT_GONE", "ABORTED", "FINISHED")
                .doesNotContain("DECISION_LOGGED", "DECISION_DURABLE"); // no COMMIT record
        assertThat(restarted.inquiriesSent()).as("nothing was prepared, so nothing to ask about").isZero();
        assertThat(restarted.violations()).isEmpty();
        assertThat(admin().inDoubt()).isEmpty();
    }

    // ---------------------------------------------------------------- helpers

    private Txn begin(TestAgent agent) throws Exception {
        return beginOnBothDatabases(agent, 60_000, protocol);
    }

    private void awaitOwnRollbacks(TestAgent agent, Txn t) {
        await("both participants rolled back on their own").atMost(CONVERGE).until(() -> agent.decidedOnTheirOwn().size() == 2);
        assertThat(agent.decidedOnTheirOwn()).containsExactlyInAnyOrder(
                new TestAgent.OwnDecision(t.pgXid(), PhaseAction.ROLLBACK), new TestAgent.OwnDecision(t.mariaXid(), PhaseAction.ROLLBACK));
    }

    private void assertRestoredAndFinished(Txn t) {
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_COMMITTED"));
        String detail = admin().detail(t.gtrid());
        assertThat((Boolean) JsonPath.read(detail, "$.restored")).isTrue();
        assertThat((String) JsonPath.read(detail, "$.protocol")).isEqualTo(protocol == THREE_PHASE ? "3PC" : "2PC");
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind")).contains("RESTORED", "ACK", "FINISHED");
        assertThat(admin().inDoubt()).isEmpty();
    }
}
