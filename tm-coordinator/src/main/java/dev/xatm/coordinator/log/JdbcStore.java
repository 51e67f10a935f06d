package dev.xatm.coordinator.log;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;

/**
 * Builds the JDBC transaction log ({@code tm.server.store=jdbc}) and checks, before the coordinator
 * takes a single request, everything that would otherwise fail at the first commit: the store is
 * reachable, the schema is there (Flyway applies {@code sql/tm-server/<dialect>/} to it), the
 * account may write both tables, and the node id is not held by a live server. Each failure is a
 * {@link TxnLogException} that says what to fix; the password never appears in any of them.
 *
 * <p>The store is shared by the log ({@link #log}) and, beside it, the cluster of the servers on it
 * (the cluster package builds its lease, takeovers and membership on {@link #dataSource()}): the
 * store's configuration wires both; the log never builds the cluster.
 *
 * <p>Thread-safety: built and wired once, at start-up.
 */
public final class JdbcStore {

    /**
     * @param url         JDBC URL of a PostgreSQL, MySQL or MariaDB database
     * @param tablePrefix prefix of the store's tables ({@code tm_}: tm_node, tm_decision, tm_schema_history)
     * @param poolSize    connections the store keeps (the writer, the lease, start-up reads)
     * @param nodeId      this server's node id on the store (1..32767); the cluster's lease claims it
     * @param address     how agents reach this server (shown to other servers and operators)
     * @param leaseTtlMillis how long this server's lease lasts without a renewal
     */
    public record Config(String url, String username, String password, String tablePrefix, int poolSize, int nodeId,
                         String address, long leaseTtlMillis) {
        @Override
        public String toString() {
            return "JdbcStore.Config{url=" + withoutSecrets(url) + ", username=" + username + ", password=<" + (password == null
                    ? "unset" : "set") + ">, tablePrefix=" + tablePrefix + ", poolSize=" + poolSize + ", nodeId=" + nodeId
                    + ", address=" + address + ", leaseTtlMillis=" + leaseTtlMillis + '}';
        }
    }

    private final Config config;
    private final JdbcDialect dialect;
    private final HikariDataSource pool;
    /** The pool passes to the log that {@link #log} makes; until then, {@link #close()} releases it. */
    private boolean handedOver;

    private JdbcStore(Config config, JdbcDialect dialect, HikariDataSource pool) {
        this.config = config;
        this.dialect = dialect;
        this.pool = pool;
    }

    /** Connects, migrates and checks, keeping trying to reach the store for 10 s. */
    public static JdbcStore connect(Config config) {
        return connect(config, 10_000);
    }

    /** @param reachMillis how long start-up keeps trying to reach the store (a database starting beside us) */
    public static JdbcStore connect(Config config, long reachMillis) {
        JdbcDialect dialect = JdbcDialect.forUrl(config.url());
        HikariDataSource pool = pool(config, reachMillis);
        try {
            migrate(dialect, config);
            checkPrivileges(pool, config);
            return new JdbcStore(config, dialect, pool);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /**
     * The log on this store, writing under {@code fence} (claimed in {@link JdbcTxnLog#open()}). The log
     * owns the pool from here on and closes it after the fence, when it closes.
     */
    public synchronized JdbcTxnLog log(NodeFence fence, JdbcTxnLog.Settings settings) {
        if (handedOver) {
            throw new IllegalStateException("the JDBC store already has its log");
        }
        handedOver = true;
        return new JdbcTxnLog(pool, pool, dialect, config.tablePrefix(), fence, settings);
    }

    public Config config() {
        return config;
    }

    public JdbcDialect dialect() {
        return dialect;
    }

    /** The store's pool, shared by the log and the cluster beside it (which must be closed before the log). */
    public DataSource dataSource() {
        return pool;
    }

    /** Releases the pool unless a log took it over; for a start-up that fails between {@link #connect} and {@link #log}. */
    public synchronized void closeUnlessHandedOver() {
        if (!handedOver) {
            pool.close();
        }
    }

    private static HikariDataSource pool(Config config, long reachMillis) {
        HikariConfig h = new HikariConfig();
        h.setPoolName("tm-store");
        h.setJdbcUrl(config.url());
        h.setUsername(config.username());
        h.setPassword(config.password());
        h.setMaximumPoolSize(config.poolSize());
        h.setMinimumIdle(Math.min(2, config.poolSize()));
        // Fail fast at start-up (a clear error instead of a hang), and never wait long for a connection
        // on the hot path: the writer retries a batch anyway.
        h.setConnectionTimeout(5_000);
        // A frozen server must not hold a survivor's takeover up with locks of a transaction it left open.
        String idleTimeout = JdbcDialect.idleTransactionTimeout(config.url(), Math.max(500, config.leaseTtlMillis() / 2));
        if (idleTimeout != null) {
            h.setConnectionInitSql(idleTimeout);
        }
        h.setInitializationFailTimeout(reachMillis);
        try {
            return new HikariDataSource(h);
        } catch (HikariPool.PoolInitializationException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new TxnLogException("cannot reach the JDBC store at " + withoutSecrets(config.url()) + " as user '" + config.username()
                    + "': " + withoutSecrets(String.valueOf(cause.getMessage())) + ". Check tm.server.jdbc.url, .username and .password,"
                    + " and that the database is up.", null);
        }
    }

    private static void migrate(JdbcDialect dialect, Config config) {
        try {
            Flyway.configure()
                    // Connections of its own, not the pool's: those end a transaction left idle for half a lease,
                    // and Flyway waits for its advisory lock inside one while another server migrates.
                    .dataSource(config.url(), config.username(), config.password())
                    .locations("classpath:db/tm-server/" + dialect.folder)
                    .table(config.tablePrefix() + "schema_history")
                    .placeholders(Map.of("prefix", config.tablePrefix()))
                    // The store may share a database (and schema) with other tables: never clean it, and
                    // adopt a non-empty schema by creating our history table next to what is there.
                    .cleanDisabled(true)
                    .baselineOnMigrate(true)
                    .baselineVersion("0")
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            throw new TxnLogException("cannot apply tm-server's schema (sql/tm-server/" + dialect.folder + ") to the JDBC store at "
                    + withoutSecrets(config.url()) + ": " + withoutSecrets(e.getMessage()) + ". The store's account needs the right to"
                    + " create tables (or a DBA applies the migrations once with Flyway and grants SELECT, INSERT, UPDATE, DELETE on "
                    + config.tablePrefix() + "node, " + config.tablePrefix() + "decision and " + config.tablePrefix() + "cluster).", null);
        }
    }

    /** Every statement the store runs, once, in a transaction that is rolled back: a missing grant fails now. */
    private static void checkPrivileges(HikariDataSource pool, Config config) {
        String p = config.tablePrefix();
        String probe = "~probe~";
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                run(c, "INSERT INTO " + p + "decision (xid, outcome, owner_node, owner_epoch, payload) VALUES (?, 3, 0, 0, ?)", probe, new byte[1]);
                run(c, "UPDATE " + p + "decision SET outcome = 1, completed_at = NULL WHERE xid = ?", probe);
                run(c, "DELETE FROM " + p + "decision WHERE xid = ?", probe);
                run(c, "SELECT epoch FROM " + p + "node WHERE node_id = -1 FOR UPDATE");
                run(c, "SELECT cluster_id FROM " + p + "cluster WHERE singleton = 1");
                run(c, "INSERT INTO " + p + "operator_action (xid, at_millis, operator, role, action, result) VALUES (?, 0, '-', '-', '-', '-')", probe);
                run(c, "SELECT at_millis FROM " + p + "operator_action WHERE xid = ?", probe);
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new TxnLogException("the JDBC store's account '" + config.username() + "' cannot use tm-server's tables " + p + "node, "
                    + p + "decision, " + p + "cluster and " + p + "operator_action: " + withoutSecrets(e.getMessage())
                    + ". Grant it SELECT, INSERT, UPDATE and DELETE on the first two and SELECT, INSERT on the last two.", e);
        }
    }

    private static void run(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            s.execute();
        }
    }

    static String withoutSecrets(String text) {
        return JdbcUrls.masked(text);
    }
}
