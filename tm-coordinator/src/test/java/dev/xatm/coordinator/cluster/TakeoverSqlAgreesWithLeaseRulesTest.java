package dev.xatm.coordinator.cluster;

import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.core.cluster.LeaseRules;
import dev.xatm.core.cluster.NodeRow;
import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The takeover's SQL on the real PostgreSQL and MariaDB against tm-core's {@link LeaseRules}, which
 * the HA simulation runs in its place: for generated lease rows of a node 7 (epoch, expired or not,
 * taken over or not) and a taker with a seen epoch, the watcher's candidate query and the
 * compare-and-set {@code UPDATE} must do exactly what {@link LeaseRules#takeable} and
 * {@link LeaseRules#takeOver} say. So a seed of the simulation that passes says something about
 * production, and a rule changed on one side only fails here.
 *
 * <p>Expiry is generated at least a second away from the database's {@code now()}, so the two
 * clocks (the rule's {@code now = 0}, the database's) cannot disagree on which side a row is.
 */
@RequiresDatabases
class TakeoverSqlAgreesWithLeaseRulesTest {
    private static final int VICTIM = 7;
    private static final int CASES = 80;
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
    void theCompareAndSetAndTheCandidateQueryDoWhatTheRulesSay(TestDb database) throws Exception {
        nodes = new JdbcNodes(database, 60_000); // the takers' own leases stay fresh through the test
        SharedNode two = nodes.log(2);
        two.open();
        SharedNode three = nodes.log(3);
        three.open();
        List<SharedNode> takers = List.of(two, three);
        JdbcDialect dialect = JdbcDialect.forUrl(database.url());
        SplittableRandom random = new SplittableRandom(20261208L);
        int takeoversWon = 0;
        int refused = 0;
        for (int i = 0; i < CASES; i++) {
            long epoch = 1 + random.nextInt(4);
            long expiresInMs = List.of(-30_000L, -2_000L, 2_000L, 30_000L).get(random.nextInt(4));
            int takenBy = random.nextInt(3) == 0 ? 2 + random.nextInt(2) : 0;
            SharedNode taker = takers.get(random.nextInt(2));
            long seen = epoch - 1 + random.nextInt(3);
            NodeRow row = new NodeRow(VICTIM, epoch, expiresInMs, takenBy);
            String described = "case " + i + ": row " + row + " (expiry relative to now), taker " + taker.nodeId() + ", seen epoch " + seen;

            setRow(database, dialect, row);
            boolean candidate = candidates(taker).contains(VICTIM);
            assertThat(candidate).as("candidate query, " + described).isEqualTo(LeaseRules.takeable(row, taker.nodeId(), 0));

            setRow(database, dialect, row);
            NodeRow expected = LeaseRules.takeOver(row, taker.nodeId(), seen, 0);
            Optional<NodeTakeover.Adoption> won = taker.takeoverForTest().tryTakeOver(VICTIM, seen);
            assertThat(won.isPresent()).as("compare-and-set, " + described).isEqualTo(expected != null);
            assertThat(storedEpochAndTaker(database)).as("row after the compare-and-set, " + described)
                    .isEqualTo(expected == null ? row.epoch() + "/" + row.takenBy() : expected.epoch() + "/" + expected.takenBy());
            if (expected == null) {
                refused++;
            } else {
                takeoversWon++;
            }
        }
        assertThat(takeoversWon).as("the generated cases reach both outcomes").isGreaterThan(5);
        assertThat(refused).isGreaterThan(5);
    }

    /** Node ids of the victims the taker's watcher would try (it tries every one it lists). */
    private static List<Integer> candidates(SharedNode taker) throws Exception {
        return taker.takeoverForTest().watchOnceCandidates();
    }

    private void setRow(TestDb database, JdbcDialect dialect, NodeRow row) throws Exception {
        try (Connection c = database.open()) {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM " + nodes.prefix + "node WHERE node_id = ?")) {
                s.setInt(1, VICTIM);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO " + nodes.prefix + "node (node_id, epoch, address, expires_at, taken_by)"
                    + " VALUES (?, ?, '127.0.0.1:7', " + dialect.nowPlusMillis() + ", ?)")) {
                s.setInt(1, VICTIM);
                s.setLong(2, row.epoch());
                s.setLong(3, row.expiresAt());
                if (row.takenBy() == 0) {
                    s.setNull(4, java.sql.Types.INTEGER);
                } else {
                    s.setInt(4, row.takenBy());
                }
                s.executeUpdate();
            }
        }
    }

    /** "epoch/takenBy" of the victim's row, takenBy 0 for NULL, as {@link NodeRow} counts it. */
    private String storedEpochAndTaker(TestDb database) throws Exception {
        try (Connection c = database.open();
             PreparedStatement s = c.prepareStatement("SELECT epoch, taken_by FROM " + nodes.prefix + "node WHERE node_id = ?")) {
            s.setInt(1, VICTIM);
            try (ResultSet r = s.executeQuery()) {
                assertThat(r.next()).isTrue();
                return r.getLong(1) + "/" + r.getInt(2);
            }
        }
    }
}
