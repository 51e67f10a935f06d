package dev.xatm.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real PostgreSQL and MariaDB the integration tests use, taken from the environment (SPEC §8):
 * {@code TM_TEST_PG_URL}, {@code TM_TEST_PG_USER}, {@code TM_TEST_PG_PASSWORD},
 * {@code TM_TEST_MYSQL_URL}, {@code TM_TEST_MYSQL_USER}, {@code TM_TEST_MYSQL_PASSWORD} (the MySQL URL
 * points at MariaDB here). {@code .ci/run} provisions both and exports them.
 *
 * <p>When they are absent the tests are skipped with one loud line saying why, except under
 * {@code CI=true}, where a missing database is a failure: a CI run that silently skipped every
 * cross-database test would prove nothing. (No Docker on this project's machines, so no
 * Testcontainers fallback yet.) The first use in a JVM also checks that XA can work at all
 * (PostgreSQL's max_prepared_transactions &gt; 0, MariaDB's XA RECOVER allowed).
 *
 * <p>Other builds share these servers: tests name their tables and gtrids with {@link Unique}.
 */
public final class TestDatabases {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final AtomicBoolean CHECKED = new AtomicBoolean();

    private final TestDb postgres;
    private final TestDb mariadb;

    private TestDatabases(TestDb postgres, TestDb mariadb) {
        this.postgres = postgres;
        this.mariadb = mariadb;
    }

    public TestDb postgres() {
        return postgres;
    }

    public TestDb mariadb() {
        return mariadb;
    }

    public List<TestDb> both() {
        return List.of(postgres, mariadb);
    }

    /**
     * A second database on each of the two servers, named after the first with {@code suffix}
     * ({@code xatm_test_b}): for two deployments that share the database servers but not the
     * databases. {@code .ci/run} creates them; when they cannot be reached the test is skipped (failed
     * under CI=true) with a line that says so.
     */
    public TestDatabases siblings(String suffix) {
        TestDatabases other = new TestDatabases(postgres.sibling(postgres.database() + suffix), mariadb.sibling(mariadb.database() + suffix));
        for (TestDb db : other.both()) {
            try (Connection c = db.open()) {
                c.isValid(2);
            } catch (SQLException e) {
                String why = "this test needs a second database '" + db.database() + "' on the " + db.kind() + " server, for the same"
                        + " account (" + e.getMessage() + "); `.ci/run --provision-only` creates it";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    Assertions.fail("CI=true but " + why);
                }
                System.err.println("!!!!! SKIPPED: " + why);
                Assumptions.abort(why);
            }
        }
        return other;
    }

    /** The same fresh table (id BIGINT PRIMARY KEY, note) on both databases. */
    public void createTable(String table) throws SQLException {
        for (TestDb db : both()) {
            db.createTable(table);
        }
    }

    /**
     * End-of-test cleanup on both databases: rolls back our prepared branches a failed test left
     * (so they hold no locks or prepared slots), then drops the table. Best effort.
     */
    public void cleanUp(String gtridPrefix, String table) throws SQLException {
        for (TestDb db : both()) {
            db.rollbackLeftovers(gtridPrefix);
            db.dropTable(table);
        }
    }

    /** Waits until neither database holds a prepared branch of ours ({@link TestDb#preparedBranches}). */
    public void awaitNothingPrepared(String gtridPrefix, Duration atMost) {
        await("no prepared branch of ours left on PostgreSQL and MariaDB").atMost(atMost).untilAsserted(() -> {
            assertThat(postgres.preparedBranches(gtridPrefix)).as("pg_prepared_xacts").isEmpty();
            assertThat(mariadb.preparedBranches(gtridPrefix)).as("XA RECOVER").isEmpty();
        });
    }

    /** The databases from the environment, or a skipped test (a failed one under CI=true). */
    public static TestDatabases require() {
        return fromEnvironment(System.getenv());
    }

    static TestDatabases fromEnvironment(Map<String, String> env) {
        List<String> missing = new ArrayList<>();
        for (String name : List.of("TM_TEST_PG_URL", "TM_TEST_PG_USER", "TM_TEST_MYSQL_URL", "TM_TEST_MYSQL_USER")) {
            if (blank(env.get(name))) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            String why = "integration tests against real PostgreSQL and MariaDB need " + String.join(", ", missing)
                    + " (run `.ci/run --provision-only` to provision both on this machine, SPEC §8)";
            if ("true".equalsIgnoreCase(env.get("CI"))) {
                Assertions.fail("CI=true but " + why);
            }
            if (WARNED.compareAndSet(false, true)) {
                System.err.println("!!!!! SKIPPED: " + why);
            }
            Assumptions.abort(why);
        }
        TestDatabases dbs = new TestDatabases(
                new TestDb(TestDb.Kind.POSTGRES, "it-postgres", env.get("TM_TEST_PG_URL"), env.get("TM_TEST_PG_USER"),
                        nullToEmpty(env.get("TM_TEST_PG_PASSWORD"))),
                new TestDb(TestDb.Kind.MARIADB, "it-mariadb", env.get("TM_TEST_MYSQL_URL"), env.get("TM_TEST_MYSQL_USER"),
                        nullToEmpty(env.get("TM_TEST_MYSQL_PASSWORD"))));
        if (CHECKED.compareAndSet(false, true)) {
            dbs.checkXaUsable();
        }
        return dbs;
    }

    /**
     * PostgreSQL ships with max_prepared_transactions = 0, which makes every PREPARE fail with an
     * error that looks like a resource failure (XA-FACTS §0). Say so plainly instead.
     */
    private void checkXaUsable() {
        try (Connection c = postgres.open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW max_prepared_transactions")) {
            rs.next();
            int n = rs.getInt(1);
            if (n <= 0) {
                Assertions.fail("PostgreSQL at TM_TEST_PG_URL has max_prepared_transactions = " + n
                        + ": XA PREPARE cannot work; set it > 0 and restart PostgreSQL (.ci/run does this)");
            }
        } catch (SQLException e) {
            Assertions.fail("cannot reach PostgreSQL at TM_TEST_PG_URL: " + e.getMessage(), e);
        }
        try (Connection c = mariadb.open(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("XA RECOVER")) {
            // Reaching it and being allowed to list prepared xids is all we need.
        } catch (SQLException e) {
            Assertions.fail("cannot run XA RECOVER on MariaDB at TM_TEST_MYSQL_URL: " + e.getMessage(), e);
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
