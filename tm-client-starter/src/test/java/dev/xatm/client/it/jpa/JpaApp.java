package dev.xatm.client.it.jpa;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.it.jpa.orders.OrderNotes;
import dev.xatm.client.it.jpa.stock.StockNotes;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.boot.model.naming.Identifier;
import org.hibernate.boot.model.naming.PhysicalNamingStrategyStandardImpl;
import org.hibernate.engine.jdbc.env.spi.JdbcEnvironment;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter;

import javax.sql.DataSource;
import java.util.Map;

/**
 * The JPA application of {@link JpaTwoDatabasesIT}: two DataSource beans (PostgreSQL "ordersDs",
 * MariaDB "stockDs"), each wrapped by the starter as usual, and over each its own
 * EntityManagerFactory (Hibernate), JpaTransactionManager and Spring Data repository, declared the
 * way an application with two persistence units declares them. Nothing in it knows about xatm but
 * the annotations on {@link JpaWork}.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({JpaApp.Orders.class, JpaApp.Stock.class, JpaWork.class, JpaFacade.class})
class JpaApp {
    @Bean
    DataSource ordersDs(Environment env) {
        return pool(env, "orders");
    }

    @Bean
    DataSource stockDs(Environment env) {
        return pool(env, "stock");
    }

    @Configuration(proxyBeanMethods = false)
    @EnableJpaRepositories(basePackageClasses = OrderNotes.class, entityManagerFactoryRef = "ordersEmf", transactionManagerRef = "ordersTx")
    static class Orders {
        @Bean
        LocalContainerEntityManagerFactoryBean ordersEmf(@Qualifier("ordersDs") DataSource ds, Environment env) {
            return emf("orders", ds, OrderNotes.class.getPackageName(), env);
        }

        @Bean
        JpaTransactionManager ordersTx(@Qualifier("ordersEmf") EntityManagerFactory emf) {
            return new JpaTransactionManager(emf);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableJpaRepositories(basePackageClasses = StockNotes.class, entityManagerFactoryRef = "stockEmf", transactionManagerRef = "stockTx")
    static class Stock {
        @Bean
        LocalContainerEntityManagerFactoryBean stockEmf(@Qualifier("stockDs") DataSource ds, Environment env) {
            return emf("stock", ds, StockNotes.class.getPackageName(), env);
        }

        @Bean
        JpaTransactionManager stockTx(@Qualifier("stockEmf") EntityManagerFactory emf) {
            return new JpaTransactionManager(emf);
        }
    }

    private static LocalContainerEntityManagerFactoryBean emf(String unit, DataSource ds, String entities, Environment env) {
        LocalContainerEntityManagerFactoryBean f = new LocalContainerEntityManagerFactoryBean();
        f.setPersistenceUnitName(unit);
        f.setDataSource(ds); // the starter's wrapper: Hibernate's connections enlist inside a global transaction
        f.setPackagesToScan(entities);
        f.setJpaVendorAdapter(new HibernateJpaVendorAdapter());
        f.setJpaPropertyMap(Map.of(
                "hibernate.hbm2ddl.auto", "none",
                "hibernate.physical_naming_strategy", new TableNaming(env.getRequiredProperty("it.table"))));
        return f;
    }

    /** Maps the entities' {@code jpa_note} to this run's own table (the database servers are shared). */
    static final class TableNaming extends PhysicalNamingStrategyStandardImpl {
        private final String table;

        TableNaming(String table) {
            this.table = table;
        }

        @Override
        public Identifier toPhysicalTableName(Identifier logical, JdbcEnvironment context) {
            return "jpa_note".equalsIgnoreCase(logical.getText()) ? Identifier.toIdentifier(table) : logical;
        }
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
