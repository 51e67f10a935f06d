package dev.xatm.sample.shard;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.util.ArrayList;
import java.util.List;

/**
 * Owns the two HikariCP pools and closes them at shutdown. The DataSource beans hand out these
 * pools, but the starter replaces each bean with its enlisting wrapper, which has no close(): so
 * Spring's inferred destroy method would never reach the pool. Closing them here keeps that
 * explicit (and runs after the DataSource beans, which depend on this one, are gone).
 */
final class ShardPools implements AutoCloseable {
    private final List<HikariDataSource> pools = new ArrayList<>();

    ShardPools(SampleProperties properties) {
        try {
            for (int i = 0; i < Shards.COUNT; i++) {
                pools.add(open(i, properties.shard(i)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static HikariDataSource open(int index, SampleProperties.ShardSettings s) {
        H2Files.checkNotInUse(index, s);
        HikariConfig c = new HikariConfig();
        c.setPoolName("shard" + index);
        c.setJdbcUrl(s.getUrl());
        c.setUsername(s.getUsername());
        c.setPassword(s.getPassword());
        c.setMaximumPoolSize(s.getMaximumPoolSize());
        // fail at start-up, naming the shard, rather than on the first order
        c.setInitializationFailTimeout(10_000);
        return new HikariDataSource(c);
    }

    HikariDataSource pool(int index) {
        return pools.get(index);
    }

    @Override
    public void close() {
        for (HikariDataSource p : pools) {
            p.close();
        }
    }
}
