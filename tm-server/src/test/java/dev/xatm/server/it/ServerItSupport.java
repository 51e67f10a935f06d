package dev.xatm.server.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.CommitProtocol;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.coordinator.engine.CrashSwitch;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.Teardown;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;

import javax.transaction.xa.XAException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What every out-of-process integration test needs: the two real databases with a fresh table
 * each, a real tm-server process, a TM-role client, agents, and the end-of-test checks (no
 * prepared branch of ours left, the auth token never in the server's output).
 *
 * <p>Every gtrid a test mints starts with a prefix unique to that test run, so the checks and the
 * agents' recovery only ever look at this test's xids, even with other runs on the same servers.
 */
@RequiresDatabases
abstract class ServerItSupport {
    protected static final Duration CONVERGE = Duration.ofSeconds(30);

    protected TestDatabases dbs;
    protected TestDb pg;
    protected TestDb maria;
    protected String prefix;
    protected String table;
    protected ServerProcess server;
    protected TmClient tm;
    private final List<TestAgent> agents = new ArrayList<>();
    private AdminClient admin;
    private int gtrids;
    private long rowIds;

    /**
     * Extra --name=value settings for one test's server, as {@code "name=value"} strings, on top of
     * the class's ({@link #serverProperties()}).
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.METHOD)
    protected @interface ServerProperties {
        String[] value();
    }

    /** Extra --name=value settings for this class's server. */
    protected Map<String, String> serverProperties() {
        return Map.of();
    }

    /** Extra --name=value settings for this test's server; by default the class's plus the method's {@link ServerProperties}. */
    protected Map<String, String> serverProperties(TestInfo info) {
        Map<String, String> all = new LinkedHashMap<>(serverProperties());
        ServerProperties extra = info.getTestMethod().map(m -> m.getAnnotation(ServerProperties.class)).orElse(null);
        for (String nameValue : extra == null ? new String[0] : extra.value()) {
            int eq = nameValue.indexOf('=');
            all.put(nameValue.substring(0, eq), nameValue.substring(eq + 1));
        }
        return all;
    }

    /** For a class that runs more than once (parameterized): what tells its runs apart in the server's log name. */
    protected String variant() {
        return "";
    }

    /** Called first: a test that does not apply aborts here (an assumption), before a server or table costs time. */
    protected void assumeApplies(TestInfo info) {}

    @BeforeEach
    void startEverything(TestInfo info) throws SQLException {
        assumeApplies(info);
        dbs = TestDatabases.require();
        pg = dbs.postgres();
        maria = dbs.mariadb();
        String test = info.getTestMethod().map(Method::getName).orElse("test");
        String unique = Unique.suffix();
        prefix = "it-" + unique;
        table = ("it_" + abbreviate(test) + "_" + unique).toLowerCase();
        dbs.createTable(table);
        server = ServerProcess.start(getClass().getSimpleName() + variant() + "-" + test, serverProperties(info));
        tm = new TmClient(server.grpcTarget(), server.token(), Duration.ofSeconds(20));
    }

    @AfterEach
    void stopEverything() throws SQLException {
        for (TestAgent a : agents) {
            a.close();
        }
        if (tm != null) {
            tm.close();
        }
        Teardown.serverAndDatabases(server, dbs, prefix, table);
    }

    /** A connected agent that holds branches on both databases. */
    protected TestAgent startAgent(String agentId) {
        TestAgent a = new TestAgent(agentId, server.grpcTarget(), server.token(), prefix, dbs.both());
        agents.add(a);
        a.start();
        await("agent " + agentId + " connected").atMost(CONVERGE).until(a::isConnected);
        return a;
    }

    /**
     * A gtrid unique to this test; on a shared JDBC store tagged with the incarnation a connected
     * agent was welcomed by (docs/ha.md: a server decides only the gtrids minted for it).
     */
    protected String newGtrid() {
        String base = prefix + "-" + (++gtrids);
        return agents.stream().filter(TestAgent::isConnected).map(TestAgent::owner).flatMap(java.util.Optional::stream)
                .findFirst().map(owner -> owner.tag(base + ":it")).orElse(base);
    }

    protected long newRowId() {
        return ++rowIds;
    }

    /** A global transaction with one branch per database, one row written in each. */
    protected record Txn(String gtrid, TestAgent.Branch pgBranch, TestAgent.Branch mariaBranch, long pgRow, long mariaRow) {
        TmXid pgXid() {
            return pgBranch.xid();
        }

        TmXid mariaXid() {
            return mariaBranch.xid();
        }
    }

    /** With the server's default protocol. */
    protected Txn beginOnBothDatabases(TestAgent agent, long timeoutMs) throws SQLException, XAException {
        return beginOnBothDatabases(agent, agent, timeoutMs, CommitProtocol.COMMIT_PROTOCOL_UNSPECIFIED);
    }

    protected Txn beginOnBothDatabases(TestAgent agent, long timeoutMs, CommitProtocol protocol) throws SQLException, XAException {
        return beginOnBothDatabases(agent, agent, timeoutMs, protocol);
    }

    /** The PostgreSQL branch held by {@code pgAgent}, the MariaDB one by {@code mariaAgent} (they may be the same). */
    protected Txn beginOnBothDatabases(TestAgent pgAgent, TestAgent mariaAgent, long timeoutMs, CommitProtocol protocol)
            throws SQLException, XAException {
        String gtrid = newGtrid();
        tm.begin(gtrid, "it", timeoutMs, protocol);
        TestAgent.Branch p = enlist(pgAgent, pg, gtrid, "pg");
        TestAgent.Branch m = enlist(mariaAgent, maria, gtrid, "maria");
        long pgRow = newRowId();
        long mariaRow = newRowId();
        p.insert(table, pgRow, gtrid);
        m.insert(table, mariaRow, gtrid);
        return new Txn(gtrid, p, m, pgRow, mariaRow);
    }

    /** Registers the branch with the server, then starts it (the server knows a branch before it does any work). */
    protected TestAgent.Branch enlist(TestAgent agent, TestDb db, String gtrid, String bqual) throws SQLException, XAException {
        tm.registerBranch(gtrid, bqual, db.resourceId(), agent.agentId());
        return agent.begin(db, gtrid, bqual);
    }

    protected Set<Long> rows(TestDb db) throws SQLException {
        return db.ids(table);
    }

    protected List<TmXid> prepared(TestDb db) throws SQLException {
        return db.preparedBranches(prefix);
    }

    protected void awaitNothingPrepared() {
        dbs.awaitNothingPrepared(prefix, CONVERGE);
    }

    /** Both rows of {@code t} were rolled back: invisible, and their row locks gone (the branches are over). */
    protected void assertRolledBackEverywhere(Txn t) throws SQLException {
        awaitNothingPrepared();
        assertThat(rows(pg)).as("rows on PostgreSQL").isEmpty();
        assertThat(rows(maria)).as("rows on MariaDB").isEmpty();
        await("row locks of " + t.gtrid() + " released").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(pg.rowIsFree(table, t.pgRow())).as("PostgreSQL row " + t.pgRow() + " free").isTrue();
            assertThat(maria.rowIsFree(table, t.mariaRow())).as("MariaDB row " + t.mariaRow() + " free").isTrue();
        });
    }

    // ---------------------------------------------------------------- crash, restart, admin

    protected AdminClient admin() {
        if (admin == null) {
            admin = new AdminClient(server);
        }
        return admin;
    }

    protected CompletableFuture<OutcomeResponse> commitAsync(Txn t) {
        return CompletableFuture.supplyAsync(() -> tm.commit(t.gtrid(), false, Duration.ofSeconds(60)));
    }

    protected void serverHaltsAt(String point) {
        assertThat(server.awaitExit(CONVERGE)).as("exit status of a deliberate crash").isEqualTo(CrashSwitch.CRASH_STATUS);
        assertThat(server.output()).contains("CRASH POINT " + point + " reached");
    }

    protected void restartServer() {
        server.restart(Map.of("tm.server.crash-point", ""));
        tm.reconnectNow();
    }

    protected void awaitCommittedEverywhere(Txn t, TestAgent agent) {
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

    protected static String abbreviate(String testName) {
        String letters = testName.replaceAll("[^A-Za-z0-9]", "");
        return letters.length() <= 24 ? letters : letters.substring(0, 24);
    }
}
