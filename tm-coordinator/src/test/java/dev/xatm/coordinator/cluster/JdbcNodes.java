package dev.xatm.coordinator.cluster;

import dev.xatm.testkit.TestDb;
import dev.xatm.coordinator.log.JdbcDialect;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import dev.xatm.testkit.Unique;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * Several "nodes" on one real database for the shared-store tests: JDBC logs with node ids of their
 * own (and leases of {@code ttlMillis}) on one set of tables under a table prefix unique to the test.
 * {@link #close()} closes every log and drops the tables.
 */
final class JdbcNodes implements AutoCloseable {
    final TestDb db;
    final String prefix = "tm_" + Unique.suffix() + "_";
    /** Why each fenced node was told it was fenced, in order. */
    final List<String> fenced = new CopyOnWriteArrayList<>();
    private final long ttlMillis;
    private final List<SharedNode> opened = new ArrayList<>();

    JdbcNodes(TestDb db, long ttlMillis) {
        this.db = db;
        this.ttlMillis = ttlMillis;
    }

    /** A log for {@code nodeId}, not yet opened; its lease row advertises 127.0.0.1:{@code nodeId}. */
    SharedNode log(int nodeId) {
        SharedNode log = SharedNode.create(new JdbcStore.Config(db.url(), db.user(), db.password(), prefix, 3, nodeId,
                "127.0.0.1:" + nodeId, ttlMillis), JdbcTxnLog.Settings.defaults(), fenced::add);
        opened.add(log);
        return log;
    }

    /** Waits until the lease of {@code nodeId} has run out by the database's clock. */
    void awaitExpired(int nodeId) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            try (Connection c = db.open(); PreparedStatement s = c.prepareStatement("SELECT "
                    + JdbcDialect.forUrl(db.url()).millisLeft("expires_at") + " FROM " + prefix + "node WHERE node_id = ?")) {
                s.setInt(1, nodeId);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() && r.getLong(1) < 0;
                }
            }
        });
    }

    /** The outcome column of {@code xid}'s decision row, or null when there is none. */
    Integer outcome(String xid) throws Exception {
        try (Connection c = db.open(); PreparedStatement s = c.prepareStatement("SELECT outcome FROM " + prefix + "decision WHERE xid = ?")) {
            s.setString(1, xid);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : null;
            }
        }
    }

    @Override
    public void close() {
        opened.forEach(SharedNode::close);
        for (String t : new String[] {"decision", "node", "cluster", "operator_action", "schema_history"}) {
            db.dropTable(prefix + t);
        }
    }
}
