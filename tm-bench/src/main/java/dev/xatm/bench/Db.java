package dev.xatm.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * One database of the benchmark, from the same TM_TEST_* variables the integration tests read
 *. The password is only handed to drivers, never printed.
 */
public record Db(String url, String user, String password) {

    public static Db postgres() {
        return fromEnv("TM_TEST_PG");
    }

    /** MariaDB (or MySQL): TM_TEST_MYSQL_URL may point at either. */
    public static Db mariadb() {
        return fromEnv("TM_TEST_MYSQL");
    }

    private static Db fromEnv(String prefix) {
        String url = System.getenv(prefix + "_URL");
        String user = System.getenv(prefix + "_USER");
        String password = System.getenv(prefix + "_PASSWORD");
        if (url == null || url.isBlank() || user == null) {
            throw new IllegalStateException(prefix + "_URL and " + prefix + "_USER (and " + prefix + "_PASSWORD) must be set; "
                    + "`.ci/run --provision-only` provisions the databases and prints them");
        }
        return new Db(url, user, password == null ? "" : password);
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    /**
     * A HikariCP pool as every variant that pools with Hikari uses it: fixed size (one connection
     * per client thread, so no variant waits for a connection), auto-commit as given.
     */
    public HikariDataSource pool(String name, int size, boolean autoCommit) {
        HikariConfig c = new HikariConfig();
        c.setPoolName(name);
        c.setJdbcUrl(url);
        c.setUsername(user);
        c.setPassword(password);
        c.setMaximumPoolSize(size);
        c.setMinimumIdle(size);
        c.setAutoCommit(autoCommit);
        c.setConnectionTimeout(30_000);
        return new HikariDataSource(c);
    }

    @Override
    public String toString() {
        return url; // never the password
    }
}
