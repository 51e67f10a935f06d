package dev.xatm.coordinator.cluster;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.core.cluster.Verdict;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Rule R4 (docs/ha.md) and the member list, on the real PostgreSQL and MariaDB of {@code TM_TEST_*}:
 * two "nodes" (separate logs and leases on one set of tables) answer for each other's gtrids from the
 * store, before and after one takes the other over.
 */
@RequiresDatabases
class JdbcClusterTest {
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
    void anotherServerAnswersFromTheStoreAndOnlyAFencedOwnersSilenceMeansRollback(TestDb database) throws Exception {
        SharedNode one = open(database, 1);
        one.open();
        SharedNode two = open(database, 2);
        two.open();
        GtridOwner ofOne = new GtridOwner(1, one.epoch());
        String committed = ofOne.tag("xatm:c");
        String preCommitted = ofOne.tag("xatm:p");
        String undecided = ofOne.tag("xatm:u");
        String rolledBack = ofOne.tag("xatm:r");
        one.append(List.of(decision(committed), preCommit(preCommitted), preCommit(rolledBack)), true).get(10, TimeUnit.SECONDS);
        one.append(List.of(new LogRecord.Aborted(rolledBack)), true).get(10, TimeUnit.SECONDS);
        String ownOfTwo = new GtridOwner(2, two.epoch()).tag("xatm:o");
        String futureOfOne = new GtridOwner(1, one.epoch() + 5).tag("xatm:f");
        String unknownNode = new GtridOwner(9, 1).tag("xatm:n");
        String untagged = "xatm:plain.1";

        Map<String, Verdict> live = verdicts(two, committed, preCommitted, undecided, rolledBack, ownOfTwo, futureOfOne, unknownNode, untagged);

        assertThat(live).containsEntry(committed, Verdict.COMMIT)
                .containsEntry(preCommitted, Verdict.ASK_OWNER)   // 3PC: its owner drives it to a decision
                .containsEntry(undecided, Verdict.ASK_OWNER)      // owner live at that epoch: it may still decide
                .containsEntry(rolledBack, Verdict.ROLLBACK)
                .containsEntry(ownOfTwo, Verdict.ASK_OWNER)       // node 2's own: its state machine answers
                .containsEntry(futureOfOne, Verdict.ASK_OWNER)    // an epoch not reached yet could still decide it
                .containsEntry(unknownNode, Verdict.ROLLBACK)     // no lease row: nobody can ever insert its decision
                .containsEntry(untagged, Verdict.ROLLBACK);       // servers of a cluster never decide untagged gtrids
        assertThat(one.cluster().verdicts(List.of(undecided)).get(10, TimeUnit.SECONDS))
                .as("the owner itself leaves its own gtrids to its state machine").containsEntry(undecided, Verdict.ASK_OWNER);

        one.leaseForTest().stopRenewing(); // node 1 dies
        nodes.awaitExpired(1);
        assertThat(two.takeoverForTest().watchOnce()).hasSize(1);

        Map<String, Verdict> fenced = verdicts(two, committed, undecided, preCommitted);
        assertThat(fenced).containsEntry(committed, Verdict.COMMIT)  // adopted row: still the decision
                .containsEntry(undecided, Verdict.ROLLBACK)          // fenced owner, no row: ABORT forever
                .containsEntry(preCommitted, Verdict.ASK_OWNER);     // the adopter drives it now
        one.append(List.of(decision(undecided)), true).handle((ok, e) -> null).get(10, TimeUnit.SECONDS);
        assertThat(nodes.outcome(undecided)).as("the zombie's insert is fenced, so the ROLLBACK answer stays true").isNull();
    }

    @ParameterizedTest
    @MethodSource("databases")
    void membersAreTheNodesWithALiveLease(TestDb database) {
        SharedNode one = open(database, 1);
        one.open();
        SharedNode two = open(database, 2);
        two.open();

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(one.cluster().members())
                .extracting(Cluster.Member::nodeId, Cluster.Member::epoch, Cluster.Member::address)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, one.epoch(), "127.0.0.1:1"),
                        org.assertj.core.groups.Tuple.tuple(2, two.epoch(), "127.0.0.1:2")));
        assertThat(one.cluster().self()).contains(new GtridOwner(1, one.epoch()));

        two.leaseForTest().stopRenewing();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(one.cluster().members())
                .extracting(Cluster.Member::nodeId).containsExactly(1));
    }

    // ---------------------------------------------------------------- helpers

    private static Map<String, Verdict> verdicts(SharedNode asked, String... gtrids) throws Exception {
        return asked.cluster().verdicts(List.of(gtrids)).get(10, TimeUnit.SECONDS);
    }

    private SharedNode open(TestDb database, int nodeId) {
        if (nodes == null) {
            nodes = new JdbcNodes(database, TTL);
        }
        return nodes.log(nodeId);
    }

    private static LogRecord.Decision decision(String gtrid) {
        return new LogRecord.Decision(gtrid, "n", List.of(new Branch("b1", "db-1", "agent-1")));
    }

    private static LogRecord.PreCommit preCommit(String gtrid) {
        return new LogRecord.PreCommit(gtrid, "n", List.of(new Branch("b1", "db-1", "agent-1")));
    }
}
