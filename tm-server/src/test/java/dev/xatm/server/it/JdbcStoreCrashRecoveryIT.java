package dev.xatm.server.it;

import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInfo;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The restart tests of the file log ({@link CrashRecoveryIT}: kill -9, restart, a durable decision is
 * carried out, an undecided transaction rolls back, nothing stays prepared), with the transaction log
 * in the database instead ({@code tm.server.store=jdbc}), once on PostgreSQL and once on MariaDB. The
 * restarted process is a new incarnation of node 1: it waits for the killed one's lease to run out,
 * takes the node with the next epoch, and reads the open decisions from the store.
 */
class JdbcStoreCrashRecoveryIT {
    /** Every store a test used, to check and drop afterwards: a fresh set of tables per test, like a fresh log directory. */
    private static final List<Map.Entry<TestDb, String>> STORES = new CopyOnWriteArrayList<>();

    static Map<String, String> jdbcStore(TestDb store) {
        String prefix = "tmit_" + Unique.suffix() + "_";
        STORES.add(Map.entry(store, prefix));
        return Map.of("tm.server.store", "jdbc",
                "tm.server.jdbc.url", store.url(),
                "tm.server.jdbc.username", store.user(),
                "tm.server.jdbc.password", store.password(),
                "tm.server.jdbc.table-prefix", prefix,
                "tm.server.jdbc.lease-ttl-ms", "1000");
    }

    @Nested
    class OnPostgres extends CrashRecoveryIT {
        @Override
        protected Map<String, String> serverProperties(TestInfo info) {
            return jdbcStore(TestDatabases.require().postgres());
        }
    }

    @Nested
    class OnMariaDb extends CrashRecoveryIT {
        @Override
        protected Map<String, String> serverProperties(TestInfo info) {
            return jdbcStore(TestDatabases.require().mariadb());
        }
    }

    /** The decisions really went to the stores (not to a file log by mistake); then the tables go. */
    @AfterAll
    static void theStoresHeldTheDecisionsAndAreDroppedAfterwards() throws Exception {
        if (!TestDatabases.available() && !"true".equalsIgnoreCase(System.getenv("CI"))) {
            return; // the nested tests were skipped (and counted so): no store was used
        }
        int decisions = 0;
        for (Map.Entry<TestDb, String> store : STORES) {
            TestDb db = store.getKey();
            String p = store.getValue();
            try (Connection c = db.open(); Statement s = c.createStatement();
                 ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + p + "decision")) {
                r.next();
                decisions += r.getInt(1);
            } finally {
                for (String t : new String[] {"decision", "node", "cluster", "operator_action", "schema_history"}) {
                    db.dropTable(p + t);
                }
            }
        }
        assertThat(STORES).hasSizeGreaterThanOrEqualTo(2);
        assertThat(decisions).as("COMMIT decisions written to the JDBC stores").isPositive();
    }
}
