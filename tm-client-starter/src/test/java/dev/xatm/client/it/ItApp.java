package dev.xatm.client.it;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;

import javax.sql.DataSource;

/**
 * A small business application for the integration tests: a PostgreSQL data source (it.pg.*) and/or
 * a MariaDB one (it.maria.*, either driver), the starter auto-configured, a service with
 * {@code @GlobalTransactional} methods and a controller a caller can reach over HTTP.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@EnableTransactionManagement
@Import({Work.class, LocalWork.class, DownstreamController.class})
class ItApp {
    @Bean
    @ConditionalOnProperty("it.pg.url")
    DataSource pgDs(Environment env) {
        return pool(env, "pg");
    }

    @Bean
    @ConditionalOnProperty("it.maria.url")
    DataSource mariaDs(Environment env) {
        return pool(env, "maria");
    }

    @Bean
    @ConditionalOnProperty("it.pg.url")
    JdbcTemplate pgJdbc(@Qualifier("pgDs") DataSource ds) {
        return new JdbcTemplate(ds);
    }

    @Bean
    @ConditionalOnProperty("it.maria.url")
    JdbcTemplate mariaJdbc(@Qualifier("mariaDs") DataSource ds) {
        return new JdbcTemplate(ds);
    }

    @Bean
    @ConditionalOnProperty("it.pg.url")
    DataSourceTransactionManager pgTx(@Qualifier("pgDs") DataSource ds) {
        return new DataSourceTransactionManager(ds);
    }

    private static DataSource pool(Environment env, String name) {
        HikariDataSource ds = new HikariDataSource();
        ds.setPoolName(name);
        ds.setJdbcUrl(env.getRequiredProperty("it." + name + ".url"));
        ds.setUsername(env.getProperty("it." + name + ".user"));
        ds.setPassword(env.getProperty("it." + name + ".password"));
        String driver = env.getProperty("it." + name + ".driver");
        if (driver != null) {
            ds.setDriverClassName(driver);
        }
        ds.setMaximumPoolSize(6);
        return ds;
    }
}
