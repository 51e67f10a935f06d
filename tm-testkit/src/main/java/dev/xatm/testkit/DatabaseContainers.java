package dev.xatm.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.JdbcDatabaseContainer;
import org.testcontainers.mariadb.MariaDBContainer;
import org.testcontainers.mysql.MySQLContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The test databases as throw-away containers, for a machine with Docker and no {@code TM_TEST_*}
 * variables: PostgreSQL 16, MariaDB 11 and MySQL 8.4, started once per JVM and shared by every test
 * class of the module (Testcontainers' Ryuk removes them when the JVM ends).
 *
 * <p>Each is set up the way XA needs it, which the images do not do by default:
 * <ul>
 *   <li>PostgreSQL ships with {@code max_prepared_transactions = 0}, which makes every PREPARE
 *       TRANSACTION fail: the server starts with 100.</li>
 *   <li>MySQL 8 lists prepared branches in XA RECOVER only to an account with the
 *       {@code XA_RECOVER_ADMIN} privilege, and recovery without it silently finds nothing: the test
 *       account gets it.</li>
 *   <li>Every server gets the second database {@code xatm_test_b} (two deployments sharing a server).</li>
 * </ul>
 */
final class DatabaseContainers {
    static final String DATABASE = "xatm_test";
    static final String SIBLING = DATABASE + "_b";
    static final String USER = "xatm";
    static final String PASSWORD = "xatm";

    static final String POSTGRES_IMAGE = "postgres:16";
    static final String MARIADB_IMAGE = "mariadb:11";
    static final String MYSQL_IMAGE = "mysql:8.4";

    private static DatabaseContainers started;

    final PostgreSQLContainer postgres = postgres();
    final MariaDBContainer mariadb = mariadb();
    final MySQLContainer mysql = mysql();

    static PostgreSQLContainer postgres() {
        return new PostgreSQLContainer(POSTGRES_IMAGE)
                .withDatabaseName(DATABASE).withUsername(USER).withPassword(PASSWORD)
                .withCommand("postgres", "-c", "max_prepared_transactions=100");
    }

    static MariaDBContainer mariadb() {
        return new MariaDBContainer(MARIADB_IMAGE).withDatabaseName(DATABASE).withUsername(USER).withPassword(PASSWORD);
    }

    static MySQLContainer mysql() {
        return new MySQLContainer(MYSQL_IMAGE).withDatabaseName(DATABASE).withUsername(USER).withPassword(PASSWORD);
    }

    /** What runs as the server's administrator once it is up (the images' root password is {@link #PASSWORD}). */
    static List<String> setUpStatements(TestDb.Kind kind) {
        return switch (kind) {
            case POSTGRES -> List.of("CREATE DATABASE " + SIBLING);
            case MARIADB -> List.of("CREATE DATABASE IF NOT EXISTS " + SIBLING,
                    "GRANT ALL PRIVILEGES ON " + SIBLING + ".* TO '" + USER + "'@'%'");
            case MYSQL -> List.of("CREATE DATABASE IF NOT EXISTS " + SIBLING,
                    "GRANT ALL PRIVILEGES ON " + SIBLING + ".* TO '" + USER + "'@'%'",
                    "GRANT XA_RECOVER_ADMIN ON *.* TO '" + USER + "'@'%'");
        };
    }

    /** Whether a Docker daemon answers (asked once; Testcontainers caches it). */
    static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** The three servers, started on first use. */
    static synchronized DatabaseContainers start() {
        if (started == null) {
            DatabaseContainers c = new DatabaseContainers();
            c.postgres.start();
            c.mariadb.start();
            c.mysql.start();
            setUp(c.postgres, TestDb.Kind.POSTGRES, c.postgres.getUsername());
            setUp(c.mariadb, TestDb.Kind.MARIADB, "root");
            setUp(c.mysql, TestDb.Kind.MYSQL, "root");
            started = c;
        }
        return started;
    }

    TestDb postgresDb() {
        return new TestDb(TestDb.Kind.POSTGRES, "it-postgres", postgres.getJdbcUrl(), USER, PASSWORD);
    }

    TestDb mariadbDb() {
        return new TestDb(TestDb.Kind.MARIADB, "it-mariadb", mariadb.getJdbcUrl(), USER, PASSWORD);
    }

    TestDb mysqlDb() {
        // Connector/J on a server without TLS set up for it; MySQL 8's default authentication needs the key.
        String url = mysql.getJdbcUrl() + (mysql.getJdbcUrl().contains("?") ? "&" : "?") + "sslMode=DISABLED&allowPublicKeyRetrieval=true";
        return new TestDb(TestDb.Kind.MYSQL, "it-mysql", url, USER, PASSWORD);
    }

    private static void setUp(JdbcDatabaseContainer<?> container, TestDb.Kind kind, String admin) {
        try (Connection c = DriverManager.getConnection(container.getJdbcUrl(), admin, PASSWORD); Statement s = c.createStatement()) {
            for (String sql : setUpStatements(kind)) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("setting up the " + kind + " container for XA failed: " + e.getMessage(), e);
        }
    }
}
