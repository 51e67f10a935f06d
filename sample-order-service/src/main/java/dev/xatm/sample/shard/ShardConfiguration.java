package dev.xatm.sample.shard;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.util.List;

/**
 * The two shard DataSources and what sits on them. The DataSource beans are ordinary HikariCP
 * pools; the xatm starter finds them as DataSource beans and enlists them (nothing here knows
 * about XA). Creating {@link Shards} migrates both schemas first, so nothing can use a shard before
 * its tables exist.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(SampleProperties.class)
public class ShardConfiguration {
    @Bean(destroyMethod = "close")
    ShardPools shardPools(SampleProperties properties) {
        properties.validate();
        return new ShardPools(properties);
    }

    // destroyMethod "": the pools are closed by ShardPools (see there)
    @Bean(destroyMethod = "")
    DataSource shard0DataSource(ShardPools pools) {
        return pools.pool(0);
    }

    @Bean(destroyMethod = "")
    DataSource shard1DataSource(ShardPools pools) {
        return pools.pool(1);
    }

    @Bean
    Shards shards(@Qualifier("shard0DataSource") DataSource shard0, @Qualifier("shard1DataSource") DataSource shard1,
                  SampleProperties properties) {
        List<Shard> list = List.of(shard(0, shard0, properties), shard(1, shard1, properties));
        for (Shard s : list) {
            ShardMigrations.migrate(s, properties.shard(s.index()).getUrl(), properties);
        }
        return new Shards(list);
    }

    @Bean
    OrderIds orderIds(Shards shards) {
        return new OrderIds(shards);
    }

    private static Shard shard(int index, DataSource ds, SampleProperties properties) {
        return new Shard(index, ds, new JdbcTemplate(ds), properties.getTablePrefix());
    }
}
