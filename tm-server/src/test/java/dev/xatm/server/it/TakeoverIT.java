package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two real tm-server processes on one shared JDBC store (PostgreSQL, a table prefix of its own per
 * test; {@code docs/ha.md}): server 1 (node 1) decides, server 2 (node 2) watches its lease and takes
 * it over when it dies, adopting its open transactions; branches on the real PostgreSQL and MariaDB.
 *
 * <p>Gtrids carry their owner (node 1 and its epoch), so the survivor answers an agent's inquiry
 * about node 1's transactions from the store by rule R4 even before it took node 1 over: a COMMIT
 * row is COMMIT, no row while node 1 may still decide is no answer, no row once node 1 is fenced is
 * ROLLBACK (test c).
 */
class TakeoverIT extends ServerItSupport {
    private static final long LEASE_TTL_MS = 2_000;
    private static final Pattern TAKEOVER_LINE = Pattern.compile(
            "TAKEOVER: node 2 \\(epoch (\\d+)\\) took over node 1 \\(epoch (\\d+) -> (\\d+)\\): adopted (\\d+) open transactions,"
                    + " (-?\\d+) ms after its lease expired");

    private String storePrefix;
    private ServerProcess survivor;
    private TmClient tm2;
    private final List<TestAgent> ownAgents = new ArrayList<>();

    @Override
    protected Map<String, String> serverProperties(TestInfo info) {
        storePrefix = "tmha_" + Unique.suffix() + "_";
        Map<String, String> p = store(1);
        if (info.getTestMethod().orElseThrow().getName().startsWith("aKilled")) {
            p.put("tm.server.crash-point", "after-decision-log");
        }
        return p;
    }

    private Map<String, String> store(int nodeId) {
        TestDb db = dbs().postgres();
        Map<String, String> p = new LinkedHashMap<>();
        p.put("tm.server.store", "jdbc");
        p.put("tm.server.jdbc.url", db.url());
        p.put("tm.server.jdbc.username", db.user());
        p.put("tm.server.jdbc.password", db.password());
        p.put("tm.server.jdbc.table-prefix", storePrefix);
        p.put("tm.server.jdbc.lease-ttl-ms", Long.toString(LEASE_TTL_MS));
        p.put("tm.server.node-id", Integer.toString(nodeId));
        return p;
    }

    private static dev.xatm.testkit.TestDatabases dbs() {
        return dev.xatm.testkit.TestDatabases.require();
    }

    /** The second server: same store, node 2, and the first one's client token, so agents and clients can use either. */
    private void startSurvivor(String test) {
        Map<String, String> p = store(2);
        p.put("tm.server.auth-token", server.token());
        survivor = ServerProcess.start(getClass().getSimpleName() + "-" + test + "-node2", p);
        tm2 = new TmClient(survivor.grpcTarget(), server.token(), Duration.ofSeconds(20));
    }

    private TestAgent agentOnSurvivor(String agentId) {
        TestAgent a = new TestAgent(agentId, survivor.grpcTarget(), server.token(), prefix, dbs.both());
        ownAgents.add(a);
        a.start();
        return a;
    }

    @AfterEach
    void stopSurvivorAndDropTheStore() {
        ownAgents.forEach(TestAgent::close);
        if (tm2 != null) {
            tm2.close();
        }
        if (survivor != null) {
            survivor.close();
            assertThat(survivor.output()).as("the shared client token is never logged").doesNotContain(server.token());
        }
        if (storePrefix != null) {
            for (String t : new String[] {"decision", "node", "cluster", "operator_action", "schema_history"}) {
                pg.dropTable(storePrefix + t);
            }
        }
    }

    /**
     * (a) Server 1 dies (halts at after-decision-log, as kill -9) with a durable COMMIT decision and
     * both branches prepared. Server 2 takes node 1 over once its lease runs out, adopts the decision
     * and, when the agent connects to it, commits both branches. Prints the measured takeover time.
     */
    @Test
    void aKilledOwnersCommitDecisionIsCarriedOutByTheSurvivor() throws Exception {
        startSurvivor("aKilled");
        TestAgent first = startAgent("agent-ha");
        Txn t = beginOnBothDatabases(first, 60_000);
        CompletableFuture<OutcomeResponse> commit = commitAsync(t);

        serverHaltsAt("after-decision-log");
        long killedNanos = System.nanoTime();
        first.crash(); // the agent goes too; its branches stay prepared in both databases
        assertThat(prepared(pg)).containsExactly(t.pgXid());
        assertThat(prepared(maria)).containsExactly(t.mariaXid());
        assertThat(storeRow(t.gtrid())).as("the decision is durable in the store, owned by node 1").startsWith("1 owned by 1@");

        AdminClient admin2 = new AdminClient(survivor);
        await("node 2 adopts the decision").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> admin2.detail(t.gtrid()) != null);
        long adoptedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedNanos);
        Matcher line = await().atMost(Duration.ofSeconds(5)).until(() -> TAKEOVER_LINE.matcher(survivor.output()), Matcher::find);
        System.out.println("TAKEOVER TIME (a): kill -> adoption seen in node 2's admin API " + adoptedMillis + " ms (lease ttl "
                + LEASE_TTL_MS + " ms); lease expiry -> adoption by the database clock " + line.group(5) + " ms");
        assertThat(line.group(4)).as("one adopted transaction").isEqualTo("1");
        String detail = admin2.detail(t.gtrid());
        assertThat((Integer) JsonPath.read(detail, "$.ownerNode")).isEqualTo(2);
        assertThat((Boolean) JsonPath.read(detail, "$.restored")).isTrue();
        assertThat(storeRow(t.gtrid())).startsWith("1 owned by 2@");

        TestAgent second = agentOnSurvivor("agent-ha");
        awaitCommittedEverywhere(t, second);
        await().atMost(CONVERGE).ignoreExceptions().until(() -> tm2.status(t.gtrid()) == TxnStatus.FINISHED_COMMITTED);
        assertThat(second.actionsFor(t.pgXid())).contains(PhaseAction.COMMIT).doesNotContain(PhaseAction.ROLLBACK);
        assertThat(second.actionsFor(t.mariaXid())).contains(PhaseAction.COMMIT).doesNotContain(PhaseAction.ROLLBACK);
        await("the adopter writes the completion").atMost(CONVERGE).until(() -> storeRow(t.gtrid()).endsWith("completed"));
        assertThat(commit.handle((r, e) -> e != null).get(30, TimeUnit.SECONDS))
                .as("server 1 never answered: it died right after the decision").isTrue();
    }

    /**
     * (b) Server 1 is frozen (SIGSTOP) past its lease with a durable COMMIT decision and a second
     * transaction whose commit request waits in its socket; server 2 takes it over. After SIGCONT,
     * server 1 finds itself fenced and exits: the frozen commit never becomes a decision, the
     * adopted one commits, and no xid ends with two outcomes.
     */
    @Test
    void aFrozenOwnerIsTakenOverAndExitsWhenItWakesUpFenced() throws Exception {
        startSurvivor("aFrozen");
        TestAgent first = startAgent("agent-zz");
        first.holdCommits();
        Txn decided = beginOnBothDatabases(first, 60_000);
        assertThat(tm.commit(decided.gtrid(), false).getOutcome()).isEqualTo(dev.xatm.protocol.v1.Outcome.COMMITTED);
        Txn pending = beginOnBothDatabases(first, 60_000);

        server.sigstop();
        long frozenNanos = System.nanoTime();
        CompletableFuture<OutcomeResponse> lateCommit = commitAsync(pending); // waits in the frozen server's socket
        AdminClient admin2 = new AdminClient(survivor);
        await("node 2 takes the frozen node over").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> admin2.detail(decided.gtrid()) != null);
        System.out.println("TAKEOVER TIME (b): SIGSTOP -> adoption " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenNanos)
                + " ms (lease ttl " + LEASE_TTL_MS + " ms)");

        server.sigcont();
        int status = server.awaitExit(CONVERGE);
        assertThat(server.output()).contains("FENCED");
        assertThat(status).as("a fenced node halts (status 3)").isEqualTo(3);
        assertThat(storeRow(pending.gtrid())).as("the zombie's decision inserted nothing").isNull();
        first.discardHeldCommits();
        first.crash();

        TestAgent second = agentOnSurvivor("agent-zz");
        awaitCommittedEverywhereOr(decided, second);
        await("the undecided one is rolled back").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(rows(pg)).doesNotContain(pending.pgRow());
            assertThat(rows(maria)).doesNotContain(pending.mariaRow());
        });
        awaitNothingPrepared();
        for (TestAgent a : List.of(first, second)) {
            assertThat(a.actionsFor(decided.pgXid())).doesNotContain(PhaseAction.ROLLBACK);
            assertThat(a.actionsFor(decided.mariaXid())).doesNotContain(PhaseAction.ROLLBACK);
            assertThat(a.actionsFor(pending.pgXid())).doesNotContain(PhaseAction.COMMIT);
            assertThat(a.actionsFor(pending.mariaXid())).doesNotContain(PhaseAction.COMMIT);
        }
        assertThat(storeRow(decided.gtrid())).startsWith("1 owned by 2@");
        assertThat(lateCommit.handle((r, e) -> r == null || r.getOutcome() != dev.xatm.protocol.v1.Outcome.COMMITTED).get(30, TimeUnit.SECONDS))
                .as("the frozen server never answered COMMITTED for the transaction it could not decide").isTrue();
    }

    /**
     * (c) Server 1 dies (halts at after-decision-log) with one transaction decided and one undecided
     * (its votes withheld), all four branches prepared. The agent fails over to server 2 at once,
     * before the takeover, and finds them by XA RECOVER. Server 2 does not hold either yet, and answers
     * from the store: COMMIT for the decided one straight away; nothing for the undecided one while
     * node 1 could still decide it; ROLLBACK once node 1 is fenced. Presumed abort on the survivor
     * would have rolled the decided one back.
     */
    @Test
    void aKilledOwnersTransactionsAreAnsweredFromTheStoreToAnAgentThatFailsOverAtOnce() throws Exception {
        startSurvivor("aKilledAtOnce");
        TestAgent first = startAgent("agent-ff");
        Txn undecided = beginOnBothDatabases(first, 60_000);
        first.withholdVote(undecided.pgXid());
        first.withholdVote(undecided.mariaXid());
        CompletableFuture<OutcomeResponse> undecidedCommit = commitAsync(undecided);
        await("the undecided transaction's branches prepared").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(prepared(pg)).contains(undecided.pgXid());
            assertThat(prepared(maria)).contains(undecided.mariaXid());
        });
        Txn decided = beginOnBothDatabases(first, 60_000);
        commitAsync(decided);
        serverHaltsAt("after-decision-log");
        first.crash();

        TestAgent second = agentOnSurvivor("agent-ff"); // at once: node 1's lease is still running
        awaitCommittedEverywhereOr(decided, second);
        List<TmXid> stillPrepared = prepared(pg);
        if (!survivor.output().contains("TAKEOVER:")) {
            assertThat(stillPrepared).as("no ROLLBACK while node 1 may still decide").contains(undecided.pgXid());
        }
        await("node 1 fenced: the undecided transaction is rolled back").atMost(CONVERGE).pollInterval(Duration.ofMillis(300))
                .untilAsserted(() -> {
                    second.inquireAgain();
                    assertThat(prepared(pg)).isEmpty();
                    assertThat(prepared(maria)).isEmpty();
                });
        assertThat(survivor.output()).contains("TAKEOVER: node 2");
        assertThat(rows(pg)).contains(decided.pgRow()).doesNotContain(undecided.pgRow());
        assertThat(rows(maria)).contains(decided.mariaRow()).doesNotContain(undecided.mariaRow());
        assertThat(second.actionsFor(decided.pgXid())).contains(PhaseAction.COMMIT).doesNotContain(PhaseAction.ROLLBACK);
        assertThat(second.actionsFor(decided.mariaXid())).contains(PhaseAction.COMMIT).doesNotContain(PhaseAction.ROLLBACK);
        assertThat(second.actionsFor(undecided.pgXid())).contains(PhaseAction.ROLLBACK).doesNotContain(PhaseAction.COMMIT);
        assertThat(storeRow(undecided.gtrid())).as("nobody decided the undecided one").isNull();
        assertThat(undecidedCommit.handle((r, e) -> e != null).get(30, TimeUnit.SECONDS)).isTrue();
    }

    private void awaitCommittedEverywhereOr(Txn t, TestAgent agent) {
        await("rows of " + t.gtrid() + " committed in both databases").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(rows(pg)).contains(t.pgRow());
            assertThat(rows(maria)).contains(t.mariaRow());
        });
        assertThat(agent.violations()).isEmpty();
    }

    /** "outcome owned by node@epoch [completed]" of the store's row, or null. */
    private String storeRow(String gtrid) throws SQLException {
        try (Connection c = pg.open(); PreparedStatement s = c.prepareStatement("SELECT outcome, owner_node, owner_epoch, completed_at FROM "
                + storePrefix + "decision WHERE xid = ?")) {
            s.setString(1, gtrid);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) + " owned by " + r.getInt(2) + "@" + r.getLong(3) + (r.getTimestamp(4) != null ? " completed" : "")
                        : null;
            }
        }
    }
}
