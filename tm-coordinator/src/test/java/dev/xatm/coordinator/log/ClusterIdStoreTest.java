package dev.xatm.coordinator.log;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.protocol.ClusterId;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The deployment's cluster id is generated once, kept in the store, and never silently replaced. */
class ClusterIdStoreTest {
    @TempDir
    Path dir;

    @Test
    void theFileLogGeneratesItsIdOnceAndKeepsIt() throws Exception {
        ClusterId first = new FileTxnLog(dir, FileTxnLog.Settings.defaults()).clusterId(Optional.empty());
        ClusterId again = new FileTxnLog(dir, FileTxnLog.Settings.defaults()).clusterId(Optional.empty());

        assertThat(again).isEqualTo(first);
        assertThat(Files.readString(dir.resolve("cluster-id")).strip()).isEqualTo(first.value());
        assertThat(dir.resolve("cluster-id.tmp")).doesNotExist();
    }

    @Test
    void aConfiguredIdIsRecordedAndAnotherOneLaterIsRefused() {
        ClusterId pinned = new ClusterId("orders1");
        assertThat(ClusterIdStore.inDirectory(dir, Optional.of(pinned))).isEqualTo(pinned);
        assertThat(ClusterIdStore.inDirectory(dir, Optional.empty())).as("unset later: the recorded one").isEqualTo(pinned);

        assertThatThrownBy(() -> ClusterIdStore.inDirectory(dir, Optional.of(new ClusterId("orders2"))))
                .isInstanceOf(TxnLogException.class)
                .hasMessageContaining("tm.server.cluster-id is orders2").hasMessageContaining("cluster id is orders1");
    }

    @Test
    void aDamagedFileStopsTheStartInsteadOfMintingANewId() throws Exception {
        Files.writeString(dir.resolve("cluster-id"), "NOT AN ID\n");

        assertThatThrownBy(() -> ClusterIdStore.inDirectory(dir, Optional.empty()))
                .isInstanceOf(TxnLogException.class).hasMessageContaining("does not hold a cluster id");
        assertThat(Files.readString(dir.resolve("cluster-id"))).as("left as it was").isEqualTo("NOT AN ID\n");
    }

    static List<TestDb> databases() {
        return TestDatabases.require().both();
    }

    @RequiresDatabases
    @ParameterizedTest
    @MethodSource("databases")
    void serversStartingAtOnceOnOneJdbcStoreAllGetTheFirstOnesId(TestDb db) throws Exception {
        try (JdbcNodes nodes = new JdbcNodes(db, 2_000)) {
            List<JdbcTxnLog> logs = List.of(nodes.log(1), nodes.log(2), nodes.log(3));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<ClusterId>> ids = pool.invokeAll(logs.stream()
                        .map(l -> (Callable<ClusterId>) () -> l.clusterId(Optional.empty())).toList());
                ClusterId winner = ids.get(0).get();
                for (Future<ClusterId> f : ids) {
                    assertThat(f.get()).isEqualTo(winner);
                }
                assertThat(nodes.log(4).clusterId(Optional.empty())).as("a later server").isEqualTo(winner);
                assertThatThrownBy(() -> nodes.log(5).clusterId(Optional.of(new ClusterId("other1"))))
                        .isInstanceOf(TxnLogException.class).hasMessageContaining("this log's cluster id is " + winner);
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
