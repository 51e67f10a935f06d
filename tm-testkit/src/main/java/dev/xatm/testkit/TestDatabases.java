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
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real PostgreSQL and MariaDB the integration tests use, from the first of:
 * <ol>
 *   <li>the environment: {@code TM_TEST_PG_URL}, {@code TM_TEST_PG_USER}, {@code TM_TEST_PG_PASSWORD},
 *       {@code TM_TEST_MYSQL_URL}, {@code TM_TEST_MYSQL_USER}, {@code TM_TEST_MYSQL_PASSWORD} (the MySQL
 *       variables name a MariaDB or MySQL server reached with mariadb-java-client); {@code .ci/run}
 *       provisions both servers on a Debian machine and exports them;</li>
 *   <li>Testcontainers, when none of those variables is set and a Docker daemon answers (not when
 *       {@code TM_TEST_CONTAINERS=false}): PostgreSQL 16, MariaDB 11, and MySQL 8.4 as
 *       {@link #mysql()} (with the variables, {@code TM_TEST_MYSQL8_URL} names a MySQL 8);</li>
 *   <li>neither: the tests are skipped with one loud line saying how to run them, except under
 *       {@code CI=true}, where a missing database is a failure: a CI run that silently skipped every
 *       cross-database test would prove nothing.</li>
 * </ol>
 * Test classes that take their databases in {@code @BeforeAll} carry {@link RequiresDatabases}, so
 * that their skipped tests are counted. The first use in a JVM also checks that XA can work at all
 * (PostgreSQL's max_prepared_transactions &gt; 0, MariaDB's XA RECOVER allowed).
 *
 * <p>Other builds share these servers: tests name their tables and gtrids with {@link Unique}.
 */
public final class TestDatabases {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final AtomicBoolean CHECKED = new AtomicBoolean();

    private static final List<String> REQUIRED = List.of("TM_TEST_PG_URL", "TM_TEST_PG_USER", "TM_TEST_MYSQL_URL", "TM_TEST_MYSQL_USER");

    /** Where the databases come from. */
    public enum Source { ENVIRONMENT, CONTAINERS, MISSING }

    private final TestDb postgres;
    private final TestDb mariadb;
    private final TestDb mysql; // MySQL 8.4 when the containers run; null otherwise

    private TestDatabases(TestDb postgres, TestDb mariadb, TestDb mysql) {
        this.postgres = postgres;
        this.mariadb = mariadb;
        this.mysql = mysql;
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
     * A MySQL 8.4 server reached with mysql-connector-j: the container's, or the one
     * {@code TM_TEST_MYSQL8_URL} / {@code _USER} / {@code _PASSWORD} name; tests that take it skip
     * without it.
     */
    public java.util.Optional<TestDb> mysql() {
        return java.util.Optional.ofNullable(mysql);
    }

    /**
     * A second database on each of the two servers, named after the first with {@code suffix}
     * ({@code xatm_test_b}): for two deployments that share the database servers but not the
     * databases. {@code .ci/run} creates them; when they cannot be reached the test is skipped (failed
     * under CI=true) with a line that says so.
     */
    public TestDatabases siblings(String suffix) {
        TestDatabases other = new TestDatabases(postgres.sibling(postgres.database() + suffix), mariadb.sibling(mariadb.database() + suffix),
                mysql == null ? null : mysql.sibling(mysql.database() + suffix));
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

    /** The databases from the environment or from containers, or a skipped test (a failed one under CI=true). */
    public static TestDatabases require() {
        return fromEnvironment(System.getenv(), DatabaseContainers::dockerAvailable);
    }

    static TestDatabases fromEnvironment(Map<String, String> env) {
        return fromEnvironment(env, () -> false);
    }

    static TestDatabases fromEnvironment(Map<String, String> env, BooleanSupplier docker) {
        TestDatabases dbs;
        switch (source(env, docker)) {
            case ENVIRONMENT -> dbs = new TestDatabases(
                    new TestDb(TestDb.Kind.POSTGRES, "it-postgres", env.get("TM_TEST_PG_URL"), env.get("TM_TEST_PG_USER"),
                            nullToEmpty(env.get("TM_TEST_PG_PASSWORD"))),
                    new TestDb(TestDb.Kind.MARIADB, "it-mariadb", env.get("TM_TEST_MYSQL_URL"), env.get("TM_TEST_MYSQL_USER"),
                            nullToEmpty(env.get("TM_TEST_MYSQL_PASSWORD"))),
                    blank(env.get("TM_TEST_MYSQL8_URL")) ? null
                            : new TestDb(TestDb.Kind.MYSQL, "it-mysql", env.get("TM_TEST_MYSQL8_URL"), env.get("TM_TEST_MYSQL8_USER"),
                                    nullToEmpty(env.get("TM_TEST_MYSQL8_PASSWORD"))));
            case CONTAINERS -> {
                DatabaseContainers c = DatabaseContainers.start();
                dbs = new TestDatabases(c.postgresDb(), c.mariadbDb(), c.mysqlDb());
            }
            default -> {
                String why = skipReason(env);
                if (isCi(env)) {
                    Assertions.fail("CI=true but " + why);
                }
                warnOnce(why);
                Assumptions.abort(why);
                throw new AssertionError("unreachable");
            }
        }
        if (CHECKED.compareAndSet(false, true)) {
            dbs.checkXaUsable();
        }
        return dbs;
    }

    /**
     * The environment wins when any of its variables is set (a half-set environment is a mistake to
     * report, not a reason to start containers); containers need a Docker daemon.
     */
    static Source source(Map<String, String> env, BooleanSupplier docker) {
        if (missing(env).isEmpty()) {
            return Source.ENVIRONMENT;
        }
        boolean anySet = env.keySet().stream().anyMatch(k -> k.startsWith("TM_TEST_PG_") || k.startsWith("TM_TEST_MYSQL_"));
        if (!anySet && !"false".equalsIgnoreCase(env.get("TM_TEST_CONTAINERS")) && docker.getAsBoolean()) {
            return Source.CONTAINERS;
        }
        return Source.MISSING;
    }

    /** Whether {@link #require()} would give databases (rather than skip or fail). */
    public static boolean available() {
        return source(System.getenv(), DatabaseContainers::dockerAvailable) != Source.MISSING;
    }

    static boolean isCi(Map<String, String> env) {
        return "true".equalsIgnoreCase(env.get("CI"));
    }

    static String skipReason(Map<String, String> env) {
        return "integration tests against real PostgreSQL and MariaDB need " + String.join(", ", missing(env))
                + " or a Docker daemon for Testcontainers; on a Debian machine `.ci/run --provision-only` installs and"
                + " provisions both servers and prints what to export (see tm-testkit/README.md)";
    }

    static void warnOnce(String why) {
        if (WARNED.compareAndSet(false, true)) {
            System.err.println("!!!!! SKIPPED: " + why);
        }
    }

    private static List<String> missing(Map<String, String> env) {
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            if (blank(env.get(name))) {
                missing.add(name);
            }
        }
        return missing;
    }

    /**
     * PostgreSQL ships with max_prepared_transactions = 0, which makes every PREPARE fail with an
     * error that looks like a resource failure. Say so plainly instead.
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
