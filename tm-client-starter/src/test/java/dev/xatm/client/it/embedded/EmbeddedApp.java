package dev.xatm.client.it.embedded;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;

/**
 * The application of the embedded-mode tests: two data sources ({@code it.first.*} and
 * {@code it.second.*}: two H2 files, or PostgreSQL and MariaDB), the starter auto-configured (the
 * tests set {@code tm.client.mode=embedded}), business methods and a downstream endpoint.
 *
 * <p>With {@code it.write-at-start-up} it runs a global transaction across both databases from an
 * ApplicationRunner, i.e. right after the context started, when the agent's stream may not be
 * welcomed yet: a failure there fails the start-up.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({EmbeddedWork.class, EmbeddedDownstream.class})
class EmbeddedApp {
    static final long START_UP_ID = 999_999_999L;

    @Bean
    @ConditionalOnProperty("it.first.url")
    DataSource firstDs(Environment env) {
        return pool(env, "first");
    }

    @Bean
    @ConditionalOnProperty("it.second.url")
    DataSource secondDs(Environment env) {
        return pool(env, "second");
    }

    @Bean
    @ConditionalOnProperty("it.first.url")
    JdbcTemplate firstJdbc(@Qualifier("firstDs") DataSource ds) {
        return new JdbcTemplate(ds);
    }

    @Bean
    @ConditionalOnProperty("it.second.url")
    JdbcTemplate secondJdbc(@Qualifier("secondDs") DataSource ds) {
        return new JdbcTemplate(ds);
    }

    @Bean
    @ConditionalOnProperty("it.write-at-start-up")
    ApplicationRunner writeAtStartUp(EmbeddedWork work) {
        return args -> work.writeBoth(START_UP_ID, START_UP_ID);
    }

    private static DataSource pool(Environment env, String name) {
        HikariDataSource ds = new HikariDataSource();
        ds.setPoolName(name);
        ds.setJdbcUrl(env.getRequiredProperty("it." + name + ".url"));
        ds.setUsername(env.getProperty("it." + name + ".user"));
        ds.setPassword(env.getProperty("it." + name + ".password"));
        ds.setMaximumPoolSize(4);
        return ds;
    }
}
