package dev.xatm.testkit;

import dev.xatm.protocol.TmXid;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.xa.PGXADataSource;

import javax.sql.XAConnection;
import javax.sql.XADataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One real database the integration tests write to through XA: connection settings plus the few
 * queries the tests need (tables, row counts, and the list of our prepared branches).
 *
 * <p>Immutable and thread-safe; every call opens and closes its own connection, so a check never
 * interferes with the XA sessions an agent holds.
 */
public final class TestDb {
    /** MYSQL is MySQL 8.4 through mysql-connector-j; MARIADB is MariaDB (or a MySQL under the MariaDB variables) through mariadb-java-client. */
    public enum Kind { POSTGRES, MARIADB, MYSQL }

    private final Kind kind;
    private final String resourceId;
    private final String url;
    private final String user;
    private final String password;

    TestDb(Kind kind, String resourceId, String url, String user, String password) {
        this.kind = kind;
        this.resourceId = resourceId;
        this.url = url;
        this.user = user;
        this.password = password;
    }

    public Kind kind() {
        return kind;
    }

    /**
     * The database {@code database} on the same server, same account: for tests of two deployments
     * that share a database server but not a database ({@code .ci/run} creates {@code <name>_b}).
     */
    public TestDb sibling(String database) {
        int scheme = url.indexOf("://");
        int slash = url.indexOf('/', scheme + 3);
        int query = url.indexOf('?', slash < 0 ? 0 : slash);
        if (scheme < 0 || slash < 0) {
            throw new IllegalStateException("cannot tell the database in " + kind + "'s URL");
        }
        String siblingUrl = url.substring(0, slash + 1) + database + (query < 0 ? "" : url.substring(query));
        return new TestDb(kind, resourceId + "-" + database, siblingUrl, user, password);
    }

    /** The database name in this URL. */
    public String database() {
        int scheme = url.indexOf("://");
        int slash = url.indexOf('/', scheme + 3);
        int query = url.indexOf('?', slash);
        return url.substring(slash + 1, query < 0 ? url.length() : query);
    }

    /** The stable resource name used in RegisterBranch / Inquiry. */
    public String resourceId() {
        return resourceId;
    }

    /** The JDBC URL from the environment, for applications the tests configure themselves. */
    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    /** For handing on to an application under test; never put it in a message or a log line. */
    public String password() {
        return password;
    }

    /**
     * This MariaDB's URL for mysql-connector-j (jdbc:mysql:, TLS off as on the test servers), to
     * test the other driver against the same server.
     */
    public String connectorJUrl() {
        if (kind != Kind.MARIADB) {
            throw new IllegalStateException("connector/J URL of " + this);
        }
        String rest = url.substring(url.indexOf("://"));
        return "jdbc:mysql" + rest + (rest.contains("?") ? "&" : "?") + "sslMode=DISABLED";
    }

    public XADataSource xaDataSource() throws SQLException {
        switch (kind) {
            case POSTGRES -> {
                PGXADataSource ds = new PGXADataSource();
                ds.setUrl(url);
                ds.setUser(user);
                ds.setPassword(password);
                return ds;
            }
            case MARIADB -> {
                MariaDbDataSource ds = new MariaDbDataSource(url);
                ds.setUser(user);
                ds.setPassword(password);
                return ds;
            }
            case MYSQL -> {
                com.mysql.cj.jdbc.MysqlXADataSource ds = new com.mysql.cj.jdbc.MysqlXADataSource();
                ds.setUrl(url);
                ds.setUser(user);
                ds.setPassword(password);
                return ds;
            }
            default -> throw new AssertionError(kind);
        }
    }

    public XAConnection openXa() throws SQLException {
        return xaDataSource().getXAConnection();
    }

    public Connection open() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    /**
     * {@code table (id BIGINT PRIMARY KEY, note VARCHAR(200))}, InnoDB on MariaDB (XA needs it). The
     * note may be null: the starter's ITs write the current gtrid, which is null outside a global
     * transaction.
     */
    public void createTable(String table) throws SQLException {
        String engine = kind == Kind.POSTGRES ? "" : " ENGINE=InnoDB";
        exec("CREATE TABLE IF NOT EXISTS " + table + " (id BIGINT PRIMARY KEY, note VARCHAR(200))" + engine);
    }

    /** Best effort, bounded: a table still locked by a leftover branch is left for a post-mortem. */
    public void dropTable(String table) {
        try (Connection c = open(); Statement s = c.createStatement()) {
            s.execute(kind == Kind.POSTGRES ? "SET lock_timeout = '5s'" : "SET SESSION lock_wait_timeout = 5");
            s.execute("DROP TABLE IF EXISTS " + table);
        } catch (SQLException e) {
            System.err.println("could not drop " + table + " on " + this + ": " + e.getMessage());
        }
    }

    /**
     * Whether a new session can take row {@code id} of {@code table} right now: inserts it in a local
     * transaction (waiting at most two seconds for a lock) and rolls back. False while an unfinished
     * branch still holds that row, which is how the tests see that a rolled-back branch is really gone
     * and not merely invisible.
     */
    public boolean rowIsFree(String table, long id) throws SQLException {
        try (Connection c = open()) {
            try (Statement s = c.createStatement()) {
                s.execute(kind == Kind.POSTGRES ? "SET lock_timeout = '2s'" : "SET SESSION innodb_lock_wait_timeout = 2");
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, note) VALUES (?, 'probe')")) {
                ps.setLong(1, id);
                ps.executeUpdate();
                return true;
            } catch (SQLException lockedOrDuplicate) {
                return false;
            } finally {
                c.rollback();
            }
        }
    }

    /** The ids committed (visible to a new session) in {@code table}. */
    public Set<Long> ids(String table) throws SQLException {
        try (Connection c = open(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            Set<Long> ids = new TreeSet<>();
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return ids;
        }
    }

    /**
     * Our prepared branches on this database whose gtrid belongs to {@code gtridPrefix} (see
     * {@link #hasPrefix}): on PostgreSQL from {@code pg_prepared_xacts} (pgjdbc's GID is
     * formatId_base64(gtrid)_base64(bqual)), on MariaDB from {@code XA RECOVER}. Foreign xids
     * (another format id, or another test run's prefix) are left out, so concurrent runs on the
     * same servers do not disturb each other.
     */
    public List<TmXid> preparedBranches(String gtridPrefix) throws SQLException {
        List<TmXid> all = kind == Kind.POSTGRES ? preparedOnPostgres() : preparedOnMariaDb();
        List<TmXid> ours = new ArrayList<>();
        for (TmXid x : all) {
            if (hasPrefix(x.gtrid(), gtridPrefix)) {
                ours.add(x);
            }
        }
        return ours;
    }

    /**
     * Whether {@code gtrid} is {@code prefix} followed by a separator (any character other than a
     * letter or digit): "it-7-1" and "it7:ab" belong to "it-7" and "it7", but "it-7x-1" does not
     * belong to "it-7". tm-server's tests separate with '-', the starter's gtrids with ':'; a
     * test that uses prefix + "x" for a foreign agent must not see that agent's branches as its own.
     */
    static boolean hasPrefix(String gtrid, String prefix) {
        return gtrid.length() > prefix.length() && gtrid.startsWith(prefix)
                && !Character.isLetterOrDigit(gtrid.charAt(prefix.length()));
    }

    /** Rolls back our prepared branches left behind by a failed test, so they hold no locks or slots. */
    public void rollbackLeftovers(String gtridPrefix) throws SQLException {
        for (TmXid x : preparedBranches(gtridPrefix)) {
            XAConnection xa = openXa();
            try {
                xa.getXAResource().rollback(x);
            } catch (javax.transaction.xa.XAException e) {
                // Best effort: the test already failed or reported the leftover.
            } finally {
                xa.close();
            }
        }
    }

    private List<TmXid> preparedOnPostgres() throws SQLException {
        List<TmXid> out = new ArrayList<>();
        try (Connection c = open();
             PreparedStatement ps = c.prepareStatement("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()");
             ResultSet rs = ps.executeQuery()) {
            String ourFormat = Integer.toString(TmXid.FORMAT_ID) + "_";
            while (rs.next()) {
                String gid = rs.getString(1);
                if (!gid.startsWith(ourFormat)) {
                    continue;
                }
                String[] parts = gid.split("_");
                if (parts.length != 3) {
                    continue;
                }
                try {
                    String gtrid = new String(Base64.getDecoder().decode(parts[1]), StandardCharsets.US_ASCII);
                    String bqual = new String(Base64.getDecoder().decode(parts[2]), StandardCharsets.US_ASCII);
                    out.add(new TmXid(gtrid, bqual));
                } catch (IllegalArgumentException notOurs) {
                    // Same format id but not our grammar: not ours to report.
                }
            }
        }
        return out;
    }

    private List<TmXid> preparedOnMariaDb() throws SQLException {
        List<TmXid> out = new ArrayList<>();
        try (Connection c = open(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("XA RECOVER")) {
            while (rs.next()) {
                if (rs.getLong("formatID") != TmXid.FORMAT_ID) {
                    continue;
                }
                int gl = rs.getInt("gtrid_length");
                int bl = rs.getInt("bqual_length");
                byte[] data = rs.getBytes("data");
                if (data == null || data.length < gl + bl) {
                    continue;
                }
                try {
                    out.add(new TmXid(new String(data, 0, gl, StandardCharsets.US_ASCII),
                            new String(data, gl, bl, StandardCharsets.US_ASCII)));
                } catch (IllegalArgumentException notOurs) {
                    // Same format id but not our grammar: not ours to report.
                }
            }
        }
        return out;
    }

    /** One statement in its own autocommit session, e.g. a row that makes a later insert fail. */
    public void exec(String sql) throws SQLException {
        try (Connection c = open(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public String toString() {
        return resourceId + " (" + kind + ")";
    }
}
