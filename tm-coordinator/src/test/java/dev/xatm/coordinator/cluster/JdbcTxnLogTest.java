package dev.xatm.coordinator.cluster;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import dev.xatm.coordinator.log.OperatorAction;
import dev.xatm.coordinator.log.TxnLogException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The JDBC store on the real PostgreSQL and MariaDB of {@code TM_TEST_*}: the same contract as the
 * file log (records survive a restart in order, a decision is durable when its future completes,
 * completions are lazy), plus what only a shared store has: the node lease, the epoch fence that makes
 * a zombie's insert insert nothing, and clear start-up errors. Each test has its own table prefix.
 */
@RequiresDatabases
class JdbcTxnLogTest {
    private static final long TTL = 600;
    private final List<SharedNode> opened = new ArrayList<>();
    private final List<String> fenced = new CopyOnWriteArrayList<>();
    private TestDb db;
    private String prefix;

    static List<TestDb> databases() {
        return TestDatabases.require().both();
    }

    @AfterEach
    void dropTables() {
        opened.forEach(SharedNode::close);
        if (db != null) {
            for (String t : new String[] {"decision", "node", "cluster", "operator_action", "schema_history"}) {
                db.dropTable(prefix + t);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void operatorActionsSurviveARestartAndAreSharedWithEveryServerOnTheStore(TestDb database) throws Exception {
        SharedNode first = open(database, 1);
        first.open();
        OperatorAction forced = new OperatorAction("g1", 1_765_000_000_123L, "jane", "admin", "rollback",
                "FINISHED_ROLLED_BACK: rolled back by operator jane", "ticket 42: cancelled");
        OperatorAction refused = new OperatorAction("g1", 1_765_000_000_456L, "joe", "admin", "refused-commit", "refused: no decision", null);
        first.operatorJournal().record(forced);
        first.operatorJournal().record(refused);
        first.close();

        SharedNode second = open(database, 1);
        assertThat(second.open()).as("operator actions are not protocol records").isEmpty();
        assertThat(second.operatorJournal().of("g1")).containsExactly(forced, refused);
        assertThat(second.operatorJournal().of("g2")).isEmpty();
        SharedNode other = open(database, 2);
        other.open();
        assertThat(other.operatorJournal().of("g1")).containsExactly(forced, refused);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void decisionsAndCompletionsSurviveARestartInOrder(TestDb database) throws Exception {
        SharedNode first = open(database, 1);
        assertThat(first.open()).isEmpty();
        first.append(List.of(decision("g1"), decision("g2")), true).get(10, TimeUnit.SECONDS);
        first.append(List.of(new LogRecord.Completed("g1")), false).get(10, TimeUnit.SECONDS);
        first.append(List.of(preCommit("g3")), true).get(10, TimeUnit.SECONDS);
        first.append(List.of(preCommit("g4")), true).get(10, TimeUnit.SECONDS);
        first.append(List.of(decision("g3"), new LogRecord.Aborted("g4")), true).get(10, TimeUnit.SECONDS);
        first.close();

        SharedNode second = open(database, 1);
        List<LogRecord> records = second.open();
        assertThat(records).containsExactly(decision("g1"), new LogRecord.Completed("g1"), decision("g2"), decision("g3"),
                preCommit("g4"), new LogRecord.Aborted("g4"));
        assertThat(second.epoch()).as("a restart is a new incarnation").isEqualTo(2);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRollbacksHeuristicsKeepItOpenUntilCompleted(TestDb database) throws Exception {
        SharedNode first = open(database, 1);
        first.open();
        first.append(List.of(preCommit("h3")), true).get(10, TimeUnit.SECONDS);
        first.append(List.of(new LogRecord.Aborted("h3"), heuristics("h3")), true).get(10, TimeUnit.SECONDS);
        first.append(List.of(heuristics("h2")), false).get(10, TimeUnit.SECONDS); // a 2PC rollback: no row before
        first.append(List.of(heuristics("h9"), new LogRecord.Completed("h9")), false).get(10, TimeUnit.SECONDS);
        first.close();
        SharedNode second = open(database, 1);
        assertThat(second.open()).containsExactly(heuristics("h3"), heuristics("h2"), heuristics("h9"), new LogRecord.Completed("h9"));
        assertThat(outcome("h3")).isEqualTo(4);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aRepeatedAppendChangesNothingAndACommitDecisionIsNeverTurnedBack(TestDb database) throws Exception {
        SharedNode log = open(database, 1);
        log.open();
        log.append(List.of(preCommit("g1")), true).get(10, TimeUnit.SECONDS);
        log.append(List.of(decision("g1")), true).get(10, TimeUnit.SECONDS);
        log.append(List.of(preCommit("g1"), decision("g1")), true).get(10, TimeUnit.SECONDS);
        log.append(List.of(new LogRecord.Aborted("g1")), false).get(10, TimeUnit.SECONDS); // never follows a COMMIT; ignored
        assertThat(outcome("g1")).isEqualTo(1);
        assertThat(rows()).isEqualTo(1);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void concurrentDecisionsShareStatements(TestDb database) throws Exception {
        SharedNode log = open(database, 1);
        log.open();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < 25; i++) {
                    CompletableFuture<Void> f = log.append(List.of(decision("c" + thread + "-" + i)), true);
                    synchronized (futures) {
                        futures.add(f);
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(rows()).isEqualTo(200);
        assertThat(log.decisionStatements()).as("group commit: 200 decisions in fewer statements").isLessThan(200);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aZombieIsFencedAfterATakeoverAndItsDecisionInsertsNothing(TestDb database) throws Exception {
        SharedNode zombie = open(database, 1);
        zombie.open();
        zombie.append(List.of(decision("before")), true).get(10, TimeUnit.SECONDS);
        // The process freezes (SIGSTOP, a GC pause): its lease stops being renewed and runs out...
        zombie.leaseForTest().stopRenewing();
        // ...and a new incarnation of node 1 takes the node over with a new epoch.
        SharedNode successor = open(database, 1);
        successor.open();
        assertThat(successor.epoch()).isEqualTo(zombie.epoch() + 1);

        CompletableFuture<Void> late = zombie.append(List.of(decision("zombie")), true);
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasMessageContaining("fenced");
        assertThat(fenced).hasSize(1);
        assertThat(exists("zombie")).as("the fenced insert inserted nothing").isFalse();
        assertThat(exists("before")).isTrue();
        successor.append(List.of(decision("after")), true).get(10, TimeUnit.SECONDS);
        assertThat(exists("after")).isTrue();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aNodeIdHeldByALiveServerIsAClearStartUpError(TestDb database) {
        SharedNode live = open(database, 7);
        live.open();
        SharedNode second = open(database, 7);
        assertThatThrownBy(second::open).isInstanceOf(TxnLogException.class)
                .hasMessageContaining("tm.server.node-id 7 is held by a live tm-server");
        assertThat(fenced).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void completedRowsArePurged(TestDb database) throws Exception {
        SharedNode log = open(database, 1, new JdbcTxnLog.Settings(256, 1000, 0, 200));
        log.open();
        log.append(List.of(decision("p1"), decision("p2")), true).get(10, TimeUnit.SECONDS);
        log.append(List.of(new LogRecord.Completed("p1")), false).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(20)).until(() -> !exists("p1"));
        assertThat(exists("p2")).as("an open decision is never purged").isTrue();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void badCredentialsAndAnUnreachableStoreAreClearErrorsWithoutThePassword(TestDb database) {
        // (an unknown account: the local PostgreSQL trusts any password of a known one)
        String p = "tm_" + Unique.suffix() + "_";
        assertThatThrownBy(() -> JdbcStore.connect(new JdbcStore.Config(database.url(), "no_such_user_xatm", "wrong-secret-pw", p, 2, 1,
                "test", TTL), 1_000))
                .isInstanceOf(TxnLogException.class).hasMessageContaining("cannot reach the JDBC store")
                .hasMessageNotContaining("wrong-secret-pw");
        String unreachable = database.kind() == TestDb.Kind.POSTGRES
                ? "jdbc:postgresql://127.0.0.1:1/x?password=url-secret-pw&connectTimeout=2"
                : "jdbc:mariadb://127.0.0.1:1/x?password=url-secret-pw&connectTimeout=2000";
        assertThatThrownBy(() -> JdbcStore.connect(new JdbcStore.Config(unreachable, "u", "p", p, 2, 1, "test", TTL), 1_000))
                .isInstanceOf(TxnLogException.class).hasMessageContaining("cannot reach the JDBC store at jdbc:")
                .hasMessageNotContaining("url-secret-pw");
    }

    // ---------------------------------------------------------------- helpers

    private SharedNode open(TestDb database, int nodeId) {
        return open(database, nodeId, JdbcTxnLog.Settings.defaults());
    }

    private SharedNode open(TestDb database, int nodeId, JdbcTxnLog.Settings settings) {
        if (db == null) {
            db = database;
            prefix = "tm_" + Unique.suffix() + "_";
        }
        SharedNode log = SharedNode.create(new JdbcStore.Config(database.url(), database.user(), database.password(), prefix, 3, nodeId,
                "test-node-" + nodeId, TTL), settings, fenced::add);
        opened.add(log);
        return log;
    }

    private static LogRecord.Decision decision(String gtrid) {
        return new LogRecord.Decision(gtrid, "n-" + gtrid, List.of(new Branch("b1", "db-1", "agent-1"), new Branch("b2", "db-2", "agent-2")));
    }

    private static LogRecord.Heuristics heuristics(String gtrid) {
        return new LogRecord.Heuristics(gtrid, "n-" + gtrid, dev.xatm.core.Outcome.ROLLED_BACK, List.of(
                new LogRecord.BranchHeuristic(new Branch("b1", "db-1", "agent-1"), dev.xatm.core.AckResult.HEURISTIC_COMMIT)));
    }

    private static LogRecord.PreCommit preCommit(String gtrid) {
        return new LogRecord.PreCommit(gtrid, "n-" + gtrid, List.of(new Branch("b1", "db-1", "agent-1"), new Branch("b2", "db-2", "agent-2")));
    }

    private boolean exists(String xid) throws SQLException {
        return outcome(xid) != null;
    }

    private Integer outcome(String xid) throws SQLException {
        try (Connection c = db.open(); PreparedStatement s = c.prepareStatement("SELECT outcome FROM " + prefix + "decision WHERE xid = ?")) {
            s.setString(1, xid);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : null;
            }
        }
    }

    private int rows() throws SQLException {
        try (Connection c = db.open(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + prefix + "decision")) {
            r.next();
            return r.getInt(1);
        }
    }
}
