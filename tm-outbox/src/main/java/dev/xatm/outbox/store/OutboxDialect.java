package dev.xatm.outbox.store;

import java.util.Locale;

/**
 * What differs between the databases the outbox runs on: the migration folder, the age of a row in
 * milliseconds by the database's own clock (so the application's clock never enters the lag), an
 * insert that ignores a duplicate key without aborting the transaction (PostgreSQL aborts the whole
 * transaction on a failed statement, so the inbox must not rely on catching the error there), and
 * the purge cutoff.
 *
 * <p>All three support {@code SELECT ... FOR UPDATE SKIP LOCKED}: PostgreSQL 9.5+, MySQL 8.0+,
 * MariaDB 10.6+, H2 2.x.
 */
public enum OutboxDialect {
    POSTGRESQL("postgresql",
            "CAST(EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - created_at)) * 1000 AS BIGINT)",
            "INSERT INTO %s (consumer, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            "CURRENT_TIMESTAMP - (? * INTERVAL '1 second')"),
    MYSQL("mysql",
            "TIMESTAMPDIFF(MICROSECOND, created_at, CURRENT_TIMESTAMP(6)) DIV 1000",
            // IGNORE would also swallow truncation; Inbox validates lengths before it gets here
            "INSERT IGNORE INTO %s (consumer, message_id) VALUES (?, ?)",
            "CURRENT_TIMESTAMP(6) - INTERVAL ? SECOND"),
    H2("h2",
            "DATEDIFF('MILLISECOND', created_at, CURRENT_TIMESTAMP)",
            // H2 keeps the transaction usable after a duplicate key: Inbox catches it there
            "INSERT INTO %s (consumer, message_id) VALUES (?, ?)",
            "DATEADD('SECOND', -?, CURRENT_TIMESTAMP)");

    /** Folder under sql/outbox/ (classpath:db/outbox/). */
    public final String folder;
    final String ageMillisExpression;
    final String inboxInsert;
    final String cutoffExpression;

    OutboxDialect(String folder, String ageMillisExpression, String inboxInsert, String cutoffExpression) {
        this.folder = folder;
        this.ageMillisExpression = ageMillisExpression;
        this.inboxInsert = inboxInsert;
        this.cutoffExpression = cutoffExpression;
    }

    /** Whether a duplicate inbox key shows as 0 updated rows (true) or as an exception to catch (H2). */
    public boolean inboxInsertIgnoresDuplicates() {
        return this != H2;
    }

    /** From the database product name of the connection's metadata. */
    public static OutboxDialect forProduct(String productName) {
        String p = productName == null ? "" : productName.toLowerCase(Locale.ROOT);
        if (p.contains("postgres")) {
            return POSTGRESQL;
        }
        if (p.contains("mysql") || p.contains("mariadb")) {
            return MYSQL;
        }
        if (p.contains("h2")) {
            return H2;
        }
        throw new IllegalStateException("the outbox runs on PostgreSQL, MySQL 8, MariaDB 10.6+ or H2, not on '" + productName + "'");
    }
}
