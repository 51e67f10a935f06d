package dev.xatm.outbox.store;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

/**
 * Creates or upgrades the outbox and inbox tables on one data source (Flyway, scripts from the
 * repository's sql/outbox/, packaged as classpath:db/outbox/&lt;dialect&gt;/; history table
 * {@code <prefix>outbox_schema_history}, so it never meets the application's own Flyway history).
 *
 * <p>Runs at start-up outside any global transaction: inside one, the data source would hand Flyway
 * an XA branch whose commit() does nothing, and MySQL refuses DDL in an XA transaction anyway.
 */
public final class OutboxMigrations {
    private static final Logger log = LoggerFactory.getLogger(OutboxMigrations.class);

    private OutboxMigrations() {}

    /** Migrates and returns the store for this data source. */
    public static OutboxStore migrate(String name, DataSource dataSource, OutboxTables tables) {
        OutboxDialect dialect = dialectOf(name, dataSource);
        Flyway flyway = Flyway.configure(OutboxMigrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:db/outbox/" + dialect.folder)
                .failOnMissingLocations(true)
                .table(tables.schemaHistory())
                // the application's database is not empty: start our history below V1 instead of refusing
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .placeholders(Map.of("prefix", tables.prefix()))
                .load();
        MigrateResult result = flyway.migrate();
        log.info("outbox tables on data source '{}' ({}): {} migration(s) applied", name, dialect.folder, result.migrationsExecuted);
        return new OutboxStore(tables, dialect);
    }

    static OutboxDialect dialectOf(String name, DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return OutboxDialect.forProduct(c.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot reach data source '" + name + "' to set up the outbox tables: " + e.getMessage(), e);
        }
    }
}
