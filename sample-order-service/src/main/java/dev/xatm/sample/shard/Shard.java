package dev.xatm.sample.shard;

import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;

/**
 * One shard database. {@link #dataSource()} is the application's DataSource bean, which the xatm
 * starter has wrapped: inside a global transaction it hands out this shard's XA branch, outside one
 * it is the plain pool.
 */
public record Shard(int index, DataSource dataSource, JdbcTemplate jdbc, String tablePrefix) {
    /** The real name of one of the shard tables (orders, inventory, ...), with sample.table-prefix. */
    public String table(String name) {
        return tablePrefix + name;
    }

    @Override
    public String toString() {
        return "shard " + index;
    }
}
