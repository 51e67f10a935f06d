package dev.xatm.coordinator.log;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.protocol.ClusterId;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /** The cluster id needs no node: these logs are never opened, so their fence is never claimed. */
    private static final NodeFence NO_FENCE = new NodeFence() {
        @Override
        public int nodeId() {
            return 0;
        }

        @Override
        public long epoch() {
            return -1;
        }

        @Override
        public void claim() {
            throw new IllegalStateException("not opened in this test");
        }

        @Override
        public void fenced(String why) {
        }

        @Override
        public void close() {
        }
    };

    static List<TestDb> databases() {
        return TestDatabases.require().both();
    }

    @RequiresDatabases
    @ParameterizedTest
    @MethodSource("databases")
    void serversStartingAtOnceOnOneJdbcStoreAllGetTheFirstOnesId(TestDb db) throws Exception {
        String prefix = "tm_" + Unique.suffix() + "_";
        List<JdbcTxnLog> opened = new ArrayList<>();
        // Each "server" connects on its own (its own pool, its own migration run), as tm-servers starting together do.
        java.util.function.Supplier<JdbcTxnLog> server = () -> {
            JdbcTxnLog log = JdbcStore.connect(new JdbcStore.Config(db.url(), db.user(), db.password(), prefix, 3, opened.size() + 1,
                    "127.0.0.1", 2_000)).log(NO_FENCE, JdbcTxnLog.Settings.defaults());
            opened.add(log);
            return log;
        };
        try {
            List<JdbcTxnLog> logs = List.of(server.get(), server.get(), server.get());
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<ClusterId>> ids = pool.invokeAll(logs.stream()
                        .map(l -> (Callable<ClusterId>) () -> l.clusterId(Optional.empty())).toList());
                ClusterId winner = ids.get(0).get();
                for (Future<ClusterId> f : ids) {
                    assertThat(f.get()).isEqualTo(winner);
                }
                assertThat(server.get().clusterId(Optional.empty())).as("a later server").isEqualTo(winner);
                assertThatThrownBy(() -> server.get().clusterId(Optional.of(new ClusterId("other1"))))
                        .isInstanceOf(TxnLogException.class).hasMessageContaining("this log's cluster id is " + winner);
            } finally {
                pool.shutdownNow();
            }
        } finally {
            opened.forEach(JdbcTxnLog::close);
            for (String t : new String[] {"decision", "node", "cluster", "operator_action", "schema_history"}) {
                db.dropTable(prefix + t);
            }
        }
    }
}
