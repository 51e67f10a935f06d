package dev.xatm.sample.shard;

import dev.xatm.client.GlobalTransactionTemplate;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Brings each shard's schema up to date with Flyway (the scripts in the repository's sql/ folder,
 * packaged as classpath:db/shard/), one run per shard DataSource, then checks the shard is the
 * database it claims to be.
 *
 * <p>Runs at start-up, before the web server takes requests, and never inside a global transaction:
 * there the DataSource would hand Flyway an XA branch whose commit() does nothing, and DDL on
 * MySQL would not even be allowed.
 */
final class ShardMigrations {
    private static final Logger log = LoggerFactory.getLogger(ShardMigrations.class);

    private ShardMigrations() {}

    static void migrate(Shard shard, String url, SampleProperties properties) {
        if (GlobalTransactionTemplate.currentGtrid() != null) {
            throw new IllegalStateException("shard migrations must run outside a global transaction, but "
                    + GlobalTransactionTemplate.currentGtrid() + " is bound to this thread");
        }
        String property = "sample.shard" + shard.index() + ".url";
        ShardDialect dialect = ShardDialect.forUrl(url, property);
        Flyway flyway = Flyway.configure(ShardMigrations.class.getClassLoader())
                .dataSource(shard.dataSource())
                .locations("classpath:db/shard/common", "classpath:db/shard/" + dialect.folder)
                .failOnMissingLocations(true)
                .table(shard.table("flyway_schema_history"))
                // A shared database (the tests use one for many things) is not empty: start the
                // history below V1 instead of refusing, so V1 still runs.
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .placeholders(Map.of(
                        "table_prefix", shard.tablePrefix(),
                        "shard", Integer.toString(shard.index()),
                        "products", Integer.toString(properties.getProducts()),
                        "initial_stock", Integer.toString(properties.getInitialStock())))
                .load();
        MigrateResult result = flyway.migrate();
        log.info("{} ({}): {} migration(s) applied, schema version {}", shard, dialect.folder, result.migrationsExecuted,
                result.targetSchemaVersion != null ? result.targetSchemaVersion : flyway.info().current().getVersion());
        checkIdentity(shard, property);
    }

    /** Swapped or duplicated shard URLs would send orders to the wrong database: stop here instead. */
    private static void checkIdentity(Shard shard, String property) {
        Integer recorded = shard.jdbc().queryForObject("SELECT MIN(shard) FROM " + shard.table("shard_identity"), Integer.class);
        if (recorded == null || recorded != shard.index()) {
            throw new IllegalStateException(property + " points at the database of shard " + recorded + " (its "
                    + shard.table("shard_identity") + " table says so), not shard " + shard.index()
                    + ": sample.shard0.url and sample.shard1.url are swapped or name the same database");
        }
    }
}
