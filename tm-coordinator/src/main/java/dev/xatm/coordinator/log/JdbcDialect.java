package dev.xatm.coordinator.log;

import java.util.Collections;
import java.util.Locale;

/**
 * The SQL the JDBC store needs, per database family. Everything else in the store is the same on
 * both. Every time expression uses the database's clock ({@code now()} / {@code NOW(6)}): leases must
 * never depend on a server's clock. Public for the cluster package (its lease and takeover statements
 * use the time expressions); the rest stays the log's. Immutable.
 */
public enum JdbcDialect {
    POSTGRESQL("postgresql") {
        @Override
        String upsertDecisions(String p, int rows) {
            // One statement per batch, fenced in the same statement (docs/ha.md, rule R2): the CTE takes a share
            // lock on this node's lease row, so a takeover that bumps the epoch waits for the insert,
            // or the insert finds the epoch moved and inserts nothing. A PRE_COMMIT row may become
            // COMMIT (PRE_COMMIT -> COMMIT is a step forward), and a rolled-back transaction's
            // Heuristics (4) replace what its row held; nothing else is ever overwritten.
            return "WITH me AS (SELECT 1 FROM " + p + "node WHERE node_id = ? AND epoch = ? FOR SHARE) "
                    + "INSERT INTO " + p + "decision (xid, outcome, owner_node, owner_epoch, payload) "
                    + "SELECT v.xid, v.outcome, ?, ?, v.payload FROM me CROSS JOIN (VALUES "
                    + String.join(", ", Collections.nCopies(rows, "(?, CAST(? AS SMALLINT), CAST(? AS BYTEA))"))
                    + ") AS v(xid, outcome, payload) "
                    + "ON CONFLICT (xid) DO UPDATE SET outcome = EXCLUDED.outcome, payload = EXCLUDED.payload "
                    + "WHERE (" + p + "decision.outcome = 3 AND EXCLUDED.outcome = 1) OR EXCLUDED.outcome = 4 "
                    + "RETURNING xid";
        }

        @Override
        boolean fenceInStatement() {
            return true;
        }

        @Override
        public String nowPlusMillis() {
            return "now() + CAST(? AS BIGINT) * INTERVAL '1 millisecond'";
        }

        @Override
        public String millisLeft(String column) {
            return "CAST(EXTRACT(EPOCH FROM (" + column + " - now())) * 1000 AS BIGINT)";
        }

        @Override
        public String now() {
            return "now()";
        }

        @Override
        String purgeCompleted(String p) {
            return "DELETE FROM " + p + "decision WHERE xid IN (SELECT xid FROM " + p + "decision "
                    + "WHERE completed_at < now() - CAST(? AS BIGINT) * INTERVAL '1 millisecond' LIMIT ?)";
        }

        @Override
        String shareLock() {
            return "FOR SHARE";
        }

        @Override
        String lazyWritesPreamble() {
            // Completions may be lost in a crash (a lost one costs an idempotent resend), so they need
            // not wait for the WAL flush: the PostgreSQL way to say "no fsync for this one".
            return "SET LOCAL synchronous_commit = off";
        }
    },

    /** MySQL 8 and MariaDB 10.5+ (InnoDB). */
    MYSQL("mysql") {
        @Override
        String upsertDecisions(String p, int rows) {
            // Assignments run left to right and see the new values, so payload goes before outcome.
            return "INSERT INTO " + p + "decision (xid, outcome, owner_node, owner_epoch, payload) VALUES "
                    + String.join(", ", Collections.nCopies(rows, "(?, ?, ?, ?, ?)"))
                    + " ON DUPLICATE KEY UPDATE "
                    + "payload = IF((outcome = 3 AND VALUES(outcome) = 1) OR VALUES(outcome) = 4, VALUES(payload), payload), "
                    + "outcome = IF((outcome = 3 AND VALUES(outcome) = 1) OR VALUES(outcome) = 4, VALUES(outcome), outcome)";
        }

        @Override
        boolean fenceInStatement() {
            return false; // the fence is a locking read in the same transaction
        }

        @Override
        public String nowPlusMillis() {
            return "DATE_ADD(NOW(6), INTERVAL (CAST(? AS SIGNED) * 1000) MICROSECOND)";
        }

        @Override
        public String millisLeft(String column) {
            return "TIMESTAMPDIFF(MICROSECOND, NOW(6), " + column + ") DIV 1000";
        }

        @Override
        public String now() {
            return "NOW(6)";
        }

        @Override
        String purgeCompleted(String p) {
            return "DELETE FROM " + p + "decision WHERE completed_at < DATE_SUB(NOW(6), INTERVAL (CAST(? AS SIGNED) * 1000) MICROSECOND)"
                    + " ORDER BY completed_at LIMIT ?";
        }

        @Override
        String shareLock() {
            return "LOCK IN SHARE MODE"; // MySQL 8 also takes FOR SHARE; MariaDB only this
        }

        @Override
        String lazyWritesPreamble() {
            return null;
        }
    };

    /** The Flyway folder under {@code classpath:db/tm-server/}. */
    final String folder;

    JdbcDialect(String folder) {
        this.folder = folder;
    }

    /**
     * Inserts {@code rows} decisions (xid, outcome, payload each) for this node and epoch. PostgreSQL:
     * parameters node_id, epoch (the fence), node_id, epoch (the owner columns), then the rows;
     * MySQL: the rows only, each (xid, outcome, owner_node, owner_epoch, payload).
     */
    abstract String upsertDecisions(String prefix, int rows);

    /** Whether {@link #upsertDecisions} carries the epoch fence itself; else the caller locks the lease row first. */
    abstract boolean fenceInStatement();

    /** An expression for "the database's now plus ? milliseconds". */
    public abstract String nowPlusMillis();

    /** An expression for the milliseconds from the database's now until {@code column} (negative when past). */
    public abstract String millisLeft(String column);

    public abstract String now();

    /** Deletes at most ? rows completed more than ? ms ago; parameters: age millis, limit. */
    abstract String purgeCompleted(String prefix);

    /** The suffix of a SELECT that takes a shared row lock until the transaction ends (the fence on the lease row). */
    abstract String shareLock();

    /** Inserts the cluster row (one parameter: the id) unless one exists; a concurrent insert loses quietly. */
    String insertClusterIdIfAbsent(String table) {
        return this == POSTGRESQL
                ? "INSERT INTO " + table + " (singleton, cluster_id) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING"
                : "INSERT IGNORE INTO " + table + " (singleton, cluster_id) VALUES (1, ?)";
    }

    /** A statement that lets the lazy writes of one transaction skip the durable flush, or null. */
    abstract String lazyWritesPreamble();

    /**
     * The statement each store connection runs first so that the database ends a transaction this
     * server leaves open for {@code millis} (idle, not running a statement), or null where the
     * database has no such setting (MySQL). Why: a server frozen (GC pause, SIGSTOP, stalled VM)
     * between a statement and its commit keeps that transaction's row locks, and a survivor's takeover
     * of its node waits on them for as long as the freeze lasts. Ending the transaction frees them; the
     * frozen server only finds its batch failed when it wakes, and retries it, fenced.
     */
    static String idleTransactionTimeout(String url, long millis) {
        String u = url == null ? "" : url.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return "SET idle_in_transaction_session_timeout = " + millis;
        }
        if (u.startsWith("jdbc:mariadb:")) {
            return "SET SESSION idle_transaction_timeout = " + Math.max(1, (millis + 999) / 1000); // whole seconds
        }
        return null;
    }

    /** The dialect for a JDBC URL: PostgreSQL, or the MySQL family (MySQL, MariaDB). */
    public static JdbcDialect forUrl(String url) {
        String u = url == null ? "" : url.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (u.startsWith("jdbc:mysql:") || u.startsWith("jdbc:mariadb:")) {
            return MYSQL;
        }
        throw new IllegalArgumentException("tm.server.jdbc.url must be a PostgreSQL (jdbc:postgresql:), MySQL (jdbc:mysql:) or"
                + " MariaDB (jdbc:mariadb:) URL, got '" + JdbcStore.withoutSecrets(url) + "'");
    }
}
