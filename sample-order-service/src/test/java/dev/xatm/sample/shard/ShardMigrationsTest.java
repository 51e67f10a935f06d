package dev.xatm.sample.shard;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The sql/ migrations on H2 (the embedded default; the end-to-end test runs them on PostgreSQL and
 * MariaDB), the shard identity check, and order ids, without the starter or a coordinator.
 */
class ShardMigrationsTest {
    private static int databases;
    private final List<HikariDataSource> pools = new ArrayList<>();

    @AfterEach
    void close() {
        pools.forEach(HikariDataSource::close);
    }

    @Test
    void eachShardGetsTheTablesAndOnlyItsOwnProductsOnce() {
        SampleProperties p = properties(7, 50, "");
        Shards shards = migratedShards(p);
        Shard s0 = shards.forProduct(2);
        Shard s1 = shards.forProduct(1);
        assertThat(stock(s0)).isEqualTo(Map.of(2L, 50, 4L, 50, 6L, 50));
        assertThat(stock(s1)).isEqualTo(Map.of(1L, 50, 3L, 50, 5L, 50, 7L, 50));
        assertThat(s0.jdbc().queryForObject("SELECT COUNT(*) FROM orders", Integer.class)).isZero();

        // a restart migrates again: nothing is re-seeded, not even with other settings
        s1.jdbc().update("UPDATE inventory SET stock = 3 WHERE product_id = 1");
        ShardMigrations.migrate(s1, urlOf(s1), properties(9, 999, ""));
        assertThat(stock(s1)).containsEntry(1L, 3).doesNotContainKey(9L);
    }

    @Test
    void manyProductsSeedWithoutGaps() {
        Shards shards = migratedShards(properties(12_345, 1, ""));
        int total = 0;
        for (Shard s : shards.all()) {
            total += s.jdbc().queryForObject("SELECT COUNT(*) FROM inventory", Integer.class);
            assertThat(s.jdbc().queryForObject("SELECT COUNT(*) FROM inventory WHERE MOD(product_id, 2) <> " + s.index(), Integer.class))
                    .isZero();
        }
        assertThat(total).isEqualTo(12_345);
    }

    @Test
    void tablePrefixNamesEveryTable() {
        Shards shards = migratedShards(properties(4, 10, "demo_"));
        Shard s = shards.forProduct(2);
        assertThat(s.jdbc().queryForObject("SELECT COUNT(*) FROM demo_inventory", Integer.class)).isEqualTo(2);
        assertThat(s.jdbc().queryForObject("SELECT COUNT(*) FROM demo_orders", Integer.class)).isZero();
        assertThat(s.jdbc().queryForObject("SELECT COUNT(*) FROM \"demo_flyway_schema_history\"", Integer.class)).isPositive();
    }

    @Test
    void swappedShardUrlsStopTheStart() {
        SampleProperties p = properties(4, 10, "");
        Shards shards = migratedShards(p);
        // the database of shard 0 configured as shard 1
        Shard wrong = new Shard(1, shards.forProduct(0).dataSource(), shards.forProduct(0).jdbc(), "");
        assertThatThrownBy(() -> ShardMigrations.migrate(wrong, "jdbc:h2:mem:x", p))
                .hasMessageContaining("sample.shard1.url points at the database of shard 0")
                .hasMessageContaining("swapped");
    }

    @Test
    void orderIdsAreTaggedWithTheirShardAndUniqueAcrossInstances() {
        Shards shards = migratedShards(properties(4, 10, ""));
        OrderIds a = new OrderIds(shards);
        OrderIds b = new OrderIds(shards); // a second instance of the service on the same shards
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 2500; i++) {
            long user = i % 5;
            for (OrderIds ids : List.of(a, b)) {
                long id = ids.nextFor(user);
                assertThat(Math.floorMod(id, 2)).as("id %d is on the shard of user %d", id, user).isEqualTo(Math.floorMod(user, 2));
                assertThat(shards.forOrderId(id)).isSameAs(shards.forUser(user));
                assertThat(seen.add(id)).as("id %d handed out twice", id).isTrue();
            }
        }
        // shard 0 (users 0, 2, 4) gave 1500 ids to each instance: 2 blocks of 1000 each, after the first block number 1
        assertThat(shards.forUser(0).jdbc().queryForObject("SELECT next_block FROM order_id_block", Long.class)).isEqualTo(1 + 2 * 2);
    }

    // ------------------------------------------------------------------ helpers

    private SampleProperties properties(int products, int stock, String prefix) {
        SampleProperties p = new SampleProperties();
        p.setProducts(products);
        p.setInitialStock(stock);
        p.setTablePrefix(prefix);
        return p;
    }

    private Shards migratedShards(SampleProperties p) {
        List<Shard> list = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            HikariDataSource ds = new HikariDataSource();
            ds.setJdbcUrl("jdbc:h2:mem:migrations" + (++databases) + ";DB_CLOSE_DELAY=-1");
            pools.add(ds);
            Shard s = new Shard(i, ds, new JdbcTemplate(ds), p.getTablePrefix());
            ShardMigrations.migrate(s, ds.getJdbcUrl(), p);
            list.add(s);
        }
        return new Shards(list);
    }

    private static String urlOf(Shard s) {
        return ((HikariDataSource) s.dataSource()).getJdbcUrl();
    }

    private static Map<Long, Integer> stock(Shard s) {
        Map<Long, Integer> out = new java.util.HashMap<>();
        s.jdbc().query("SELECT product_id, stock FROM inventory", rs -> {
            out.put(rs.getLong(1), rs.getInt(2));
        });
        return out;
    }
}
