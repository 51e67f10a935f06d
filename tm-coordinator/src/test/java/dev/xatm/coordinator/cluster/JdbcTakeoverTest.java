package dev.xatm.coordinator.cluster;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Takeover of a dead node on the real PostgreSQL and MariaDB of {@code TM_TEST_*} (docs/ha.md): three
 * "nodes" (separate logs and leases with their own node ids on one set of tables). Node 1 writes
 * decisions and dies (stops renewing); nodes 2 and 3 race the compare-and-set, exactly one wins and
 * gets exactly node 1's open rows; node 1's later decision inserts nothing. Each test has its own
 * table prefix.
 */
@RequiresDatabases
class JdbcTakeoverTest {
    private static final long TTL = 600;
    private JdbcNodes nodes;

    static List<TestDb> databases() {
        return TestDatabases.require().both();
    }

    @AfterEach
    void dropTables() {
        if (nodes != null) {
            nodes.close();
        }
    }

    @ParameterizedTest
    @MethodSource("databases")
    void twoSurvivorsRaceAndExactlyOneAdoptsTheDeadNodesOpenRows(TestDb database) throws Exception {
        SharedNode dead = open(database, 1);
        dead.open();
        dead.append(List.of(decision("g1"), decision("g2"), decision("g3"), preCommit("g4")), true).get(10, TimeUnit.SECONDS);
        dead.append(List.of(new LogRecord.Completed("g3")), false);
        dead.append(List.of(decision("flush")), true).get(10, TimeUnit.SECONDS); // the lazy Completed went with it
        long deadEpoch = dead.epoch();
        SharedNode two = open(database, 2);
        two.open();
        SharedNode three = open(database, 3);
        three.open();
        two.append(List.of(decision("own-of-2")), true).get(10, TimeUnit.SECONDS);

        dead.leaseForTest().stopRenewing(); // killed: no renewal, no clean-up
        awaitExpired(1);
        CyclicBarrier start = new CyclicBarrier(2);
        CompletableFuture<List<NodeTakeover.Adoption>> by2 = CompletableFuture.supplyAsync(() -> race(two, start));
        CompletableFuture<List<NodeTakeover.Adoption>> by3 = CompletableFuture.supplyAsync(() -> race(three, start));
        List<NodeTakeover.Adoption> all = new ArrayList<>(by2.get(30, TimeUnit.SECONDS));
        all.addAll(by3.get(30, TimeUnit.SECONDS));

        assertThat(all).as("exactly one survivor wins the compare-and-set").hasSize(1);
        NodeTakeover.Adoption won = all.get(0);
        SharedNode winner = won.byNode() == 2 ? two : three;
        assertThat(won.deadNode()).isEqualTo(1);
        assertThat(won.seenEpoch()).isEqualTo(deadEpoch);
        assertThat(won.byEpoch()).isEqualTo(winner.epoch());
        assertThat(won.records()).as("node 1's open rows, nothing completed, nothing of node 2")
                .containsExactlyInAnyOrder(decision("g1"), decision("g2"), preCommit("g4"), decision("flush"));
        assertThat(won.transactions()).isEqualTo(4);
        assertThat(won.millisSinceExpiry()).isNotNegative();
        assertThat(owners()).containsEntry("g1", winner.nodeId() + "@" + winner.epoch())
                .containsEntry("g2", winner.nodeId() + "@" + winner.epoch())
                .containsEntry("g4", winner.nodeId() + "@" + winner.epoch())
                .containsEntry("g3", "1@" + deadEpoch)
                .containsEntry("own-of-2", "2@" + two.epoch());
        assertThat(nodeRow(1)).isEqualTo((deadEpoch + 1) + " taken by " + winner.nodeId());

        CompletableFuture<Void> late = dead.append(List.of(decision("zombie")), true);
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasMessageContaining("fenced");
        assertThat(owners()).as("the fenced insert inserted nothing").doesNotContainKey("zombie");
        assertThat(nodes.fenced).hasSize(1);
        assertThat(winner.takeoverForTest().watchOnce()).as("a node taken over once is not taken again").isEmpty();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aZombieCannotTurnAnAdoptedPreCommitToAbortButTheAdopterCan(TestDb database) throws Exception {
        SharedNode zombie = open(database, 1);
        zombie.open();
        zombie.append(List.of(preCommit("p1"), preCommit("p2")), true).get(10, TimeUnit.SECONDS);
        SharedNode two = open(database, 2);
        two.open();
        zombie.leaseForTest().stopRenewing();
        awaitExpired(1);
        assertThat(two.takeoverForTest().watchOnce()).hasSize(1);

        CompletableFuture<Void> late = zombie.append(List.of(new LogRecord.Aborted("p1")), true);
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasMessageContaining("fenced");
        assertThat(outcome("p1")).as("PRE_COMMIT -> ABORT is the owner's alone (R5)").isEqualTo(3);
        assertThat(nodes.fenced).hasSize(1);

        two.append(List.of(new LogRecord.Aborted("p2")), true).get(10, TimeUnit.SECONDS);
        assertThat(outcome("p2")).as("the adopter owns the row now").isEqualTo(2);
    }

    @ParameterizedTest
    @MethodSource("databases")
    void whenTheTakerDiesTooTheNextTakeoverCarriesItsAdoptedRowsOn(TestDb database) throws Exception {
        SharedNode one = open(database, 1);
        one.open();
        one.append(List.of(decision("g1")), true).get(10, TimeUnit.SECONDS);
        SharedNode two = open(database, 2);
        two.open();
        two.append(List.of(decision("g2")), true).get(10, TimeUnit.SECONDS);
        one.leaseForTest().stopRenewing();
        awaitExpired(1);
        assertThat(two.takeoverForTest().watchOnce()).singleElement()
                .satisfies(a -> assertThat(a.records()).containsExactly(decision("g1")));

        SharedNode three = open(database, 3);
        three.open();
        two.leaseForTest().stopRenewing();
        awaitExpired(2);
        assertThat(three.takeoverForTest().watchOnce()).singleElement().satisfies(a -> {
            assertThat(a.deadNode()).isEqualTo(2);
            assertThat(a.records()).containsExactlyInAnyOrder(decision("g1"), decision("g2"));
        });
        assertThat(owners()).containsEntry("g1", "3@" + three.epoch()).containsEntry("g2", "3@" + three.epoch());
    }

    @ParameterizedTest
    @MethodSource("databases")
    void aNodeRestartedAfterItsTakeoverIsANewIncarnationThatOwnsNothingOld(TestDb database) throws Exception {
        SharedNode one = open(database, 1);
        one.open();
        one.append(List.of(decision("g1")), true).get(10, TimeUnit.SECONDS);
        long firstEpoch = one.epoch();
        SharedNode two = open(database, 2);
        two.open();
        one.leaseForTest().stopRenewing();
        awaitExpired(1);
        assertThat(two.takeoverForTest().watchOnce()).hasSize(1);

        SharedNode restarted = open(database, 1);
        assertThat(restarted.open()).as("its open row went to node 2").isEmpty();
        assertThat(restarted.epoch()).isEqualTo(firstEpoch + 2);
        assertThat(nodeRow(1)).isEqualTo((firstEpoch + 2) + " taken by null");
        assertThat(two.takeoverForTest().watchOnce()).as("live again: not taken over").isEmpty();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void theWatcherTakesOverOnItsOwnAndANodeWithAStaleLeaseTakesOverNobody(TestDb database) throws Exception {
        SharedNode one = open(database, 1);
        one.open();
        one.append(List.of(decision("g1")), true).get(10, TimeUnit.SECONDS);
        SharedNode stale = open(database, 3);
        stale.open();
        stale.leaseForTest().stopRenewing(); // frozen itself: must not take anybody over
        SharedNode two = open(database, 2);
        two.open();
        LinkedBlockingQueue<Map.Entry<String, List<LogRecord>>> adopted = new LinkedBlockingQueue<>();
        two.startTakeovers((from, records) -> adopted.add(Map.entry(from, records)));

        one.leaseForTest().stopRenewing();
        Map.Entry<String, List<LogRecord>> first = adopted.poll(10, TimeUnit.SECONDS);

        assertThat(first).isNotNull();
        Map<String, List<LogRecord>> got = new TreeMap<>();
        got.put(first.getKey(), first.getValue());
        Map.Entry<String, List<LogRecord>> second = adopted.poll(10, TimeUnit.SECONDS);
        assertThat(second).as("node 2 takes over both dead nodes").isNotNull();
        got.put(second.getKey(), second.getValue());
        assertThat(got).containsEntry("node 1 (epoch 1)", List.of(decision("g1"))).containsEntry("node 3 (epoch 1)", List.of());
        Thread.sleep(TTL); // surely past its own ttl by its own clock too
        assertThat(stale.takeoverForTest().watchOnce()).as("a node that could not renew its own lease takes nobody over").isEmpty();
    }

    /**
     * A server frozen between a statement and its commit (here: a lazy completion's row lock, held by a
     * connection of node 1's own pool and never committed) must not hold the takeover up for as long as
     * the freeze lasts: the store ends that idle transaction after half a lease, and the survivor adopts.
     */
    @ParameterizedTest
    @MethodSource("databases")
    void aFrozenServersOpenTransactionDoesNotHoldItsTakeoverUp(TestDb database) throws Exception {
        SharedNode frozen = open(database, 1);
        frozen.open();
        frozen.append(List.of(decision("g1")), true).get(10, TimeUnit.SECONDS);
        SharedNode survivor = open(database, 2);
        survivor.open();
        Connection held = frozen.dataSourceForTest().getConnection();
        held.setAutoCommit(false);
        try (PreparedStatement s = held.prepareStatement("UPDATE " + nodes.prefix + "decision SET completed_at = NULL WHERE xid = ?")) {
            s.setString(1, "g1");
            assertThat(s.executeUpdate()).isEqualTo(1); // row locked until a commit that never comes
        }
        frozen.leaseForTest().stopRenewing();
        awaitExpired(1);

        List<NodeTakeover.Adoption> adopted;
        try {
            adopted = CompletableFuture.supplyAsync(() -> {
                try {
                    return survivor.takeoverForTest().watchOnce();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }).get(15, TimeUnit.SECONDS);
            assertThatThrownBy(held::commit).as("the store ended the frozen server's transaction").isInstanceOf(SQLException.class);
        } finally {
            try {
                held.rollback(); // when the store did not end it, this lets the blocked takeover and the clean-up go on
                held.close();
            } catch (SQLException ignored) {
                // already ended by the store
            }
        }

        assertThat(adopted).hasSize(1);
        assertThat(owners()).containsKey("g1").hasEntrySatisfying("g1", owner -> assertThat(owner).startsWith("2@"));
    }

    // ---------------------------------------------------------------- helpers

    private static List<NodeTakeover.Adoption> race(SharedNode log, CyclicBarrier start) {
        try {
            start.await(10, TimeUnit.SECONDS);
            return log.takeoverForTest().watchOnce();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitExpired(int nodeId) {
        nodes.awaitExpired(nodeId);
    }

    /** xid -> "owner_node@owner_epoch". */
    private Map<String, String> owners() throws SQLException {
        Map<String, String> owners = new TreeMap<>();
        try (Connection c = nodes.db.open(); PreparedStatement s = c.prepareStatement("SELECT xid, owner_node, owner_epoch FROM " + nodes.prefix + "decision");
             ResultSet r = s.executeQuery()) {
            while (r.next()) {
                owners.put(r.getString(1), r.getInt(2) + "@" + r.getLong(3));
            }
        }
        return owners;
    }

    private Integer outcome(String xid) throws Exception {
        return nodes.outcome(xid);
    }

    private String nodeRow(int nodeId) throws SQLException {
        try (Connection c = nodes.db.open(); PreparedStatement s = c.prepareStatement("SELECT epoch, taken_by FROM " + nodes.prefix + "node WHERE node_id = ?")) {
            s.setInt(1, nodeId);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1) + " taken by " + r.getObject(2);
            }
        }
    }

    private SharedNode open(TestDb database, int nodeId) {
        if (nodes == null) {
            nodes = new JdbcNodes(database, TTL);
        }
        return nodes.log(nodeId);
    }

    private static LogRecord.Decision decision(String gtrid) {
        return new LogRecord.Decision(gtrid, "n-" + gtrid, List.of(new Branch("b1", "db-1", "agent-1"), new Branch("b2", "db-2", "agent-2")));
    }

    private static LogRecord.PreCommit preCommit(String gtrid) {
        return new LogRecord.PreCommit(gtrid, "n-" + gtrid, List.of(new Branch("b1", "db-1", "agent-1"), new Branch("b2", "db-2", "agent-2")));
    }
}
