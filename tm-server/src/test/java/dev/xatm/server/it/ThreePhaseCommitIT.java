package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.Outcome;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.xatm.protocol.v1.CommitProtocol.THREE_PHASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Three-phase commit through the real tm-server process, one branch on PostgreSQL and one
 * on MariaDB: the commit, the aborts at CAN_COMMIT and at PRE_COMMIT, a coordinator killed after
 * PRE_COMMIT whose participants commit on their own, an agent killed after CAN_COMMIT, and
 * {@code tm.server.default-protocol}. The crash points shared with 2PC run in {@link CrashPointIT}.
 */
class ThreePhaseCommitIT extends ServerItSupport {

    /** (a) Both branches willing and prepared: the rows are in both databases, the history shows all three phases. */
    @Test
    void commitRunsAllThreePhases() throws Exception {
        TestAgent agent = startAgent("agent-3a");
        Txn t = beginOnBothDatabases(agent, 60_000, THREE_PHASE);

        OutcomeResponse r = tm.commit(t.gtrid(), true);

        assertThat(r.getOutcome()).isEqualTo(Outcome.COMMITTED);
        assertThat(rows(pg)).containsExactly(t.pgRow());
        assertThat(rows(maria)).containsExactly(t.mariaRow());
        awaitNothingPrepared();
        for (var xid : List.of(t.pgXid(), t.mariaXid())) {
            // (resends may repeat a command; the order of first arrivals is what matters)
            assertThat(agent.actionsFor(xid)).as(xid.toString()).startsWith(PhaseAction.CAN_COMMIT)
                    .containsSubsequence(PhaseAction.CAN_COMMIT, PhaseAction.PRE_COMMIT, PhaseAction.COMMIT)
                    .doesNotContain(PhaseAction.PREPARE, PhaseAction.ROLLBACK);
        }
        String detail = admin().detail(t.gtrid());
        assertThat((String) JsonPath.read(detail, "$.protocol")).isEqualTo("3PC");
        assertThat((String) JsonPath.read(detail, "$.phase")).isEqualTo("FINISHED");
        assertThat((String) JsonPath.read(detail, "$.status")).isEqualTo("FINISHED_COMMITTED");
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind")).containsSubsequence(
                "COMMIT_REQUESTED", "CAN_COMMIT_SENT", "PRE_COMMIT_LOGGED", "PRE_COMMIT_SENT", "DECISION_DURABLE", "FINISHED");
        assertThat(logMentions(t.gtrid())).as("the PRE_COMMIT and COMMIT records name it").isTrue();
        assertThat(agent.decidedOnTheirOwn()).isEmpty();
        assertThat(agent.violations()).isEmpty();
    }

    /** (b) A NO to CAN_COMMIT aborts before anything is prepared: no PRE_COMMIT, no record of it at all. */
    @Test
    void aNoToCanCommitAbortsBeforeAnythingIsPrepared() throws Exception {
        TestAgent agent = startAgent("agent-3b");
        Txn t = beginOnBothDatabases(agent, 60_000, THREE_PHASE);
        agent.voteNo(t.mariaXid());

        assertThat(tm.commit(t.gtrid(), true).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);

        assertRolledBackEverywhere(t);
        for (var xid : List.of(t.pgXid(), t.mariaXid())) {
            assertThat(agent.actionsFor(xid)).as(xid.toString()).contains(PhaseAction.CAN_COMMIT)
                    .doesNotContain(PhaseAction.PRE_COMMIT, PhaseAction.PREPARE, PhaseAction.COMMIT);
        }
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_ROLLED_BACK"));
        assertThat(admin().historyKinds(t.gtrid())).contains("CAN_COMMIT_SENT", "ABORTED")
                .doesNotContain("PRE_COMMIT_LOGGED", "PRE_COMMIT_SENT");
        // Presumed abort still holds in 3PC until the PRE_COMMIT record: nothing of it reached the log.
        assertThat(logMentions(t.gtrid())).as("the log names the gtrid").isFalse();
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * (c) The coordinator dies after every PRE_COMMIT answer, before its COMMIT record. While it is
     * down both participants commit on their own (their PRE_COMMIT timer ran out); the restarted
     * coordinator finds the PRE_COMMIT record, asks again, hears the two own commits and finishes
     * COMMITTED. The participants' timer (3 s) exceeds the coordinator's PRE_COMMIT timeout (1 s), as
     * the server requires.
     */
    @Test
    @ServerProperties({"tm.server.crash-point=before-decision-log", "tm.server.three-phase.pre-commit-timeout-ms=1000",
            "tm.server.three-phase.participant-pre-commit-timeout-ms=3000"})
    void participantsCommitOnTheirOwnWhileTheCoordinatorIsDown() throws Exception {
        TestAgent agent = startAgent("agent-3c");
        Txn t = beginOnBothDatabases(agent, 60_000, THREE_PHASE);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("before-decision-log");
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        await("both participants committed on their own").atMost(CONVERGE)
                .until(() -> agent.decidedOnTheirOwn().size() == 2);
        assertThat(agent.decidedOnTheirOwn()).extracting(TestAgent.OwnDecision::action).containsOnly(PhaseAction.COMMIT);
        assertThat(server.isAlive()).as("still down").isFalse();
        assertThat(rows(pg)).containsExactly(t.pgRow());
        assertThat(rows(maria)).containsExactly(t.mariaRow());
        assertThat(prepared(pg)).isEmpty();
        assertThat(prepared(maria)).isEmpty();

        restartServer();
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_COMMITTED"));
        String detail = admin().detail(t.gtrid());
        assertThat((Boolean) JsonPath.read(detail, "$.restored")).isTrue();
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind"))
                .contains("RESTORED", "PARTICIPANT_DECIDED", "DECISION_DURABLE", "FINISHED");
        assertThat(JsonPath.<List<String>>read(detail, "$.branches[*].decidedOnItsOwn")).containsOnly("COMMIT");
        assertThat(admin().inDoubt()).isEmpty();
        assertThat(agent.received()).as("the restarted coordinator asked again")
                .anyMatch(r -> r.action() == PhaseAction.PRE_COMMIT && r.session() > 1);
        assertThat(tm.commit(t.gtrid(), false).getOutcome()).as("the client's retry hears the truth").isEqualTo(Outcome.COMMITTED);
        awaitNothingPrepared();
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * (d) The agent holding the MariaDB branch dies right after its YES to CAN_COMMIT: the transaction
     * aborts, the PostgreSQL branch (another agent) is told to roll back, nothing is prepared or written.
     */
    @Test
    void anAgentKilledAfterCanCommitAbortsTheTransaction() throws Exception {
        TestAgent pgAgent = startAgent("agent-3d-pg");
        TestAgent mariaAgent = startAgent("agent-3d-maria");
        mariaAgent.crashAt(TestAgent.CrashPoint.AGENT_AFTER_CAN_COMMIT);
        Txn t = beginOnBothDatabases(pgAgent, mariaAgent, 60_000, THREE_PHASE);

        assertThat(tm.commit(t.gtrid(), false, Duration.ofSeconds(30)).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);

        assertThat(mariaAgent.crashed().get(5, TimeUnit.SECONDS)).isEqualTo(t.mariaXid());
        await().atMost(CONVERGE).until(() -> pgAgent.state(t.pgXid()) == TestAgent.BranchState.ROLLED_BACK);
        assertThat(pgAgent.actionsFor(t.pgXid())).contains(PhaseAction.CAN_COMMIT, PhaseAction.ROLLBACK)
                .doesNotContain(PhaseAction.COMMIT);
        assertRolledBackEverywhere(t);
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_ROLLED_BACK"));
        assertThat(admin().historyKinds(t.gtrid())).contains("CAN_COMMIT_SENT", "AGENT_GONE", "ABORTED", "FINISHED")
                .doesNotContain("DECISION_LOGGED", "DECISION_DURABLE"); // no COMMIT record
        assertThat(pgAgent.decidedOnTheirOwn()).as("the ROLLBACK came before any timer ran out").isEmpty();
        assertThat(pgAgent.violations()).isEmpty();
        assertThat(mariaAgent.violations()).isEmpty();
    }

    /**
     * (e) The MariaDB branch prepares but withholds its PRE_COMMIT answer: the coordinator's own
     * PRE_COMMIT timeout (1 s) aborts, and the prepared PostgreSQL branch gets its ROLLBACK before its
     * participant timer (3 s) would have committed it.
     */
    @Test
    @ServerProperties({"tm.server.three-phase.pre-commit-timeout-ms=1000", "tm.server.three-phase.participant-pre-commit-timeout-ms=3000"})
    void aMissingPreCommitAnswerAbortsBeforeAnyParticipantCommits() throws Exception {
        TestAgent agent = startAgent("agent-3e");
        Txn t = beginOnBothDatabases(agent, 60_000, THREE_PHASE);
        agent.withholdVote(t.mariaXid());

        assertThat(tm.commit(t.gtrid(), false).getOutcome()).isEqualTo(Outcome.ROLLED_BACK);

        await().atMost(CONVERGE).untilAsserted(() -> {
            assertThat(agent.state(t.pgXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
            assertThat(agent.state(t.mariaXid())).isEqualTo(TestAgent.BranchState.ROLLED_BACK);
        });
        long preCommitToRollbackMs = TimeUnit.NANOSECONDS.toMillis(
                agent.firstReceivedNanos(t.pgXid(), PhaseAction.ROLLBACK) - agent.firstReceivedNanos(t.pgXid(), PhaseAction.PRE_COMMIT));
        assertThat(preCommitToRollbackMs).as("PRE_COMMIT to ROLLBACK, ms").isBetween(0L, 3000L);
        assertRolledBackEverywhere(t);
        List<String> aborted = JsonPath.read(admin().detail(t.gtrid()), "$.history[?(@.kind == 'ABORTED')].detail");
        assertThat(aborted).singleElement().asString().contains("PRE_COMMIT", "maria");
        // The disarmed timer stays quiet past the point where it would have fired.
        await("no participant decides on its own").during(Duration.ofMillis(3500)).atMost(Duration.ofSeconds(10))
                .until(() -> agent.decidedOnTheirOwn().isEmpty());
        assertThat(rows(pg)).isEmpty();
        assertThat(agent.violations()).isEmpty();
    }

    /** (f) With tm.server.default-protocol=three-phase a Begin that names no protocol runs 3PC; one that names 2PC still gets it. */
    @Test
    @ServerProperties("tm.server.default-protocol=three-phase")
    void theDefaultProtocolCanBeThreePhase() throws Exception {
        TestAgent agent = startAgent("agent-3f");
        Txn byDefault = beginOnBothDatabases(agent, 60_000);
        assertThat(tm.commit(byDefault.gtrid(), true).getOutcome()).isEqualTo(Outcome.COMMITTED);
        Txn twoPhase = beginOnBothDatabases(agent, 60_000, CommitProtocol.TWO_PHASE);
        assertThat(tm.commit(twoPhase.gtrid(), true).getOutcome()).isEqualTo(Outcome.COMMITTED);

        assertThat(agent.actionsFor(byDefault.pgXid())).startsWith(PhaseAction.CAN_COMMIT, PhaseAction.PRE_COMMIT);
        assertThat((String) JsonPath.read(admin().detail(byDefault.gtrid()), "$.protocol")).isEqualTo("3PC");
        assertThat(agent.actionsFor(twoPhase.pgXid())).startsWith(PhaseAction.PREPARE).doesNotContain(PhaseAction.CAN_COMMIT);
        assertThat((String) JsonPath.read(admin().detail(twoPhase.gtrid()), "$.protocol")).isEqualTo("2PC");
        assertThat(rows(pg)).containsExactlyInAnyOrder(byDefault.pgRow(), twoPhase.pgRow());
        assertThat(rows(maria)).containsExactlyInAnyOrder(byDefault.mariaRow(), twoPhase.mariaRow());
        awaitNothingPrepared();
        assertThat(agent.violations()).isEmpty();
    }

    /**
     * 3PC's hazard shown, with a crash instead of a partition: the coordinator is killed while it
     * waits for PRE_COMMIT answers -- PostgreSQL's branch is prepared and said YES, MariaDB's never got
     * its PRE_COMMIT (lost on that stream) -- and stays down longer than the participant timers.
     * MariaDB's willing branch is rolled back as soon as the stream breaks (the participant core rolls
     * back a lost server's unprepared branches: nothing of them is prepared, and that server aborts or
     * forgot them), PostgreSQL's prepared one commits on its own (PRE_COMMIT timer, 4 s): the
     * transaction is split. The restarted coordinator resends PRE_COMMIT, hears MariaDB's NO and
     * PostgreSQL's own commit, and can only record a heuristic outcome and list it for an operator.
     * Nothing prepared is left behind.
     */
    @Test
    @ServerProperties({"tm.server.three-phase.pre-commit-timeout-ms=2000", "tm.server.three-phase.participant-can-commit-timeout-ms=3000",
            "tm.server.three-phase.participant-pre-commit-timeout-ms=4000"})
    void aCoordinatorDownLongerThanTheParticipantTimersSplitsTheOutcome() throws Exception {
        TestAgent agent = startAgent("agent-3h");
        Txn t = beginOnBothDatabases(agent, 60_000, THREE_PHASE);
        agent.neverAnswerPrepare(t.mariaXid()); // its PRE_COMMIT is as good as lost
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        await("PostgreSQL's branch pre-committed").atMost(CONVERGE).until(() -> agent.state(t.pgXid()) == TestAgent.BranchState.PREPARED);
        server.kill9(); // well within the coordinator's 2 s PRE_COMMIT timeout: it never got to abort
        assertThatThrownBy(() -> commit.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class);
        await("MariaDB's branch rolled back with the stream, PostgreSQL's committed on its own").atMost(CONVERGE)
                .until(() -> agent.state(t.mariaXid()) == TestAgent.BranchState.ROLLED_BACK && agent.decidedOnTheirOwn().size() == 1);
        assertThat(agent.decidedOnTheirOwn()).containsExactly(new TestAgent.OwnDecision(t.pgXid(), PhaseAction.COMMIT));
        assertThat(rows(pg)).as("committed on its own").containsExactly(t.pgRow());
        assertThat(rows(maria)).as("rolled back on its own").isEmpty();

        restartServer();
        await().atMost(CONVERGE).until(() -> admin().status(t.gtrid()).equals("FINISHED_HEURISTIC"));
        assertThat(admin().inDoubt()).containsExactly(t.gtrid());
        String detail = admin().detail(t.gtrid());
        assertThat((String) JsonPath.read(detail, "$.outcome")).isEqualTo("ROLLED_BACK");
        assertThat(JsonPath.<List<String>>read(detail, "$.history[*].kind")).contains("RESTORED", "PARTICIPANT_DECIDED", "HEURISTIC");
        assertThat(JsonPath.<List<String>>read(detail, "$.branches[?(@.bqual == 'pg')].heuristic")).containsExactly("HEURISTIC_COMMIT");
        awaitNothingPrepared();
        // The one thing the agent may call wrong here: a ROLLBACK reaching the branch that committed on its own.
        assertThat(agent.violations()).allMatch(v -> v.contains("ROLLBACK for " + t.pgXid()));
    }

    /** Whether any file of the server's log directory contains {@code gtrid} (records hold it as plain UTF-8). */
    private boolean logMentions(String gtrid) {
        byte[] needle = gtrid.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(server.dataDir())) {
            return files.filter(Files::isRegularFile).anyMatch(f -> contains(read(f), needle));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(new String(needle, StandardCharsets.ISO_8859_1));
    }
}
