package dev.xatm.client.localtx;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.Propagation;
import dev.xatm.client.TmUsageException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A Spring local transaction (DataSourceTransactionManager, JdbcTemplate) and a global one on the
 * same thread, on two in-memory H2 databases with the coordinator embedded (no database server, no
 * tm-server). A local transaction begun before a new global one holds a plain connection that
 * JdbcTemplate would keep using inside the global transaction, silently outside it: the global
 * transaction must refuse to begin, naming the data source, and write nothing. A local transaction
 * inside the global one, and global scopes that start nothing (a joining REQUIRED, SUPPORTS,
 * NOT_SUPPORTED), keep working.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalTransactionFirstTest {
    @TempDir
    static Path tmp;
    ConfigurableApplicationContext app;
    JdbcTemplate first;
    JdbcTemplate second;
    TransactionTemplate firstLocal;
    GlobalTransactionTemplate global;
    Facade facade;
    final AtomicLong ids = new AtomicLong();

    @BeforeAll
    void start() {
        app = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(Map.of(
                "spring.main.banner-mode", "off",
                "spring.application.name", "local-first",
                "tm.client.mode", "embedded",
                "tm.client.gtrid-prefix", "lf",
                "tm.server.file.dir", tmp.resolve("tm-data").toString())).run();
        first = app.getBean("firstJdbc", JdbcTemplate.class);
        second = app.getBean("secondJdbc", JdbcTemplate.class);
        firstLocal = new TransactionTemplate(app.getBean("firstTx", DataSourceTransactionManager.class));
        global = app.getBean(GlobalTransactionTemplate.class);
        facade = app.getBean(Facade.class);
        for (JdbcTemplate jdbc : List.of(first, second)) {
            jdbc.execute("CREATE TABLE note (id BIGINT PRIMARY KEY)");
        }
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    @BeforeEach
    void empty() {
        first.update("DELETE FROM note");
        second.update("DELETE FROM note");
    }

    /**
     * The local transaction on the first database is open (and has written) when the global one is
     * asked for. Without the check the global transaction begins, enlists only the second database,
     * commits it, and the first database's write is decided by the local transaction alone: here it
     * rolls back, leaving half of the global transaction committed.
     */
    @Test
    void aGlobalTransactionBegunInsideALocalOneIsRefusedAndWritesNothing() {
        long before = ids.incrementAndGet();
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> firstLocal.executeWithoutResult(local -> {
            insert(first, before);
            try {
                global.execute(GlobalTransactionDefinition.DEFAULT.withName("place-order"), s -> {
                    insert(first, a);
                    insert(second, b);
                    return null;
                });
            } finally {
                local.setRollbackOnly(); // the local transaction decides on its own, as it would after any failure
            }
        }))
                .isInstanceOf(TmUsageException.class)
                .hasMessageContaining("'place-order' cannot begin")
                .hasMessageContaining("DataSource 'firstDs'")
                .hasMessageContaining("Put @Transactional inside @GlobalTransactional");
        assertThat(ids(first)).isEmpty();
        assertThat(ids(second)).isEmpty();
    }

    /** The outer-@Transactional facade: a local @Transactional method calling a @GlobalTransactional bean. */
    @Test
    void aTransactionalFacadeAroundAGlobalTransactionalMethodIsRefused() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> facade.localAroundGlobal(a, b))
                .isInstanceOf(TmUsageException.class)
                .hasMessageContaining("DataSource 'firstDs'");
        assertThat(ids(first)).isEmpty();
        assertThat(ids(second)).isEmpty();
    }

    /** A new global transaction (REQUIRES_NEW) inside a local transaction inside a global one: the bound connection belongs to the outer one. */
    @Test
    void requiresNewInsideALocalTransactionIsRefusedToo() {
        long a = ids.incrementAndGet();
        assertThatThrownBy(() -> global.execute(s -> firstLocal.execute(local -> {
            insert(first, a);
            return global.execute(GlobalTransactionDefinition.DEFAULT.withPropagation(Propagation.REQUIRES_NEW), inner -> {
                insert(first, a + 1000);
                return null;
            });
        }))).isInstanceOf(TmUsageException.class).hasMessageContaining("DataSource 'firstDs'");
        assertThat(ids(first)).isEmpty();
    }

    /** The documented order: the local transaction inside the global one runs in the branch, and commits with it. */
    @Test
    void aLocalTransactionInsideTheGlobalOneCommitsWithIt() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        facade.globalAroundLocal(a, b, false);
        assertThat(ids(first)).containsExactly(a);
        assertThat(ids(second)).containsExactly(b);
    }

    @Test
    void aLocalTransactionInsideTheGlobalOneRollsBackWithIt() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> facade.globalAroundLocal(a, b, true)).isInstanceOf(IllegalStateException.class);
        assertThat(ids(first)).isEmpty();
        assertThat(ids(second)).isEmpty();
    }

    /** global → local (binds the branch connection) → global REQUIRED: it joins, nothing new begins, nothing is refused. */
    @Test
    void aJoiningGlobalScopeInsideALocalTransactionStillWorks() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        global.execute(s -> firstLocal.execute(local -> {
            insert(first, a);
            return global.execute(inner -> {
                assertThat(inner.isNewTransaction()).isFalse();
                insert(second, b);
                return null;
            });
        }));
        assertThat(ids(first)).containsExactly(a);
        assertThat(ids(second)).containsExactly(b);
    }

    /** SUPPORTS and NOT_SUPPORTED begin nothing: inside a local transaction they run as before. */
    @Test
    void supportsAndNotSupportedInsideALocalTransactionStillWork() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        firstLocal.executeWithoutResult(local -> {
            global.execute(GlobalTransactionDefinition.DEFAULT.withPropagation(Propagation.SUPPORTS), s -> insert(first, a));
            global.execute(GlobalTransactionDefinition.DEFAULT.withPropagation(Propagation.NOT_SUPPORTED), s -> insert(first, b));
        });
        assertThat(ids(first)).containsExactlyInAnyOrder(a, b);
    }

    /** After the local transaction ended, a global transaction on the same thread begins as usual. */
    @Test
    void aGlobalTransactionAfterALocalOneBegins() {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        firstLocal.executeWithoutResult(local -> insert(first, a));
        global.execute(s -> insert(second, b));
        assertThat(ids(first)).containsExactly(a);
        assertThat(ids(second)).containsExactly(b);
    }

    private static int insert(JdbcTemplate jdbc, long id) {
        return jdbc.update("INSERT INTO note (id) VALUES (?)", id);
    }

    private static List<Long> ids(JdbcTemplate jdbc) {
        return jdbc.queryForList("SELECT id FROM note", Long.class);
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import({Facade.class, GlobalWork.class})
    static class App {
        static final AtomicLong DBS = new AtomicLong();

        @Bean
        DataSource firstDs() {
            return h2("first");
        }

        @Bean
        DataSource secondDs() {
            return h2("second");
        }

        @Bean
        JdbcTemplate firstJdbc(@Qualifier("firstDs") DataSource ds) {
            return new JdbcTemplate(ds);
        }

        @Bean
        JdbcTemplate secondJdbc(@Qualifier("secondDs") DataSource ds) {
            return new JdbcTemplate(ds);
        }

        @Bean
        DataSourceTransactionManager firstTx(@Qualifier("firstDs") DataSource ds) {
            return new DataSourceTransactionManager(ds);
        }

        @Bean
        DataSourceTransactionManager secondTx(@Qualifier("secondDs") DataSource ds) {
            return new DataSourceTransactionManager(ds);
        }

        private static DataSource h2(String name) {
            HikariDataSource ds = new HikariDataSource();
            ds.setPoolName(name);
            ds.setJdbcUrl("jdbc:h2:mem:localfirst-" + name + "-" + DBS.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
            ds.setUsername("sa");
            ds.setMaximumPoolSize(4);
            return ds;
        }
    }

    /** Business methods with both annotations, called through their Spring proxies. */
    static class Facade {
        private final GlobalWork work;
        private final JdbcTemplate first;

        Facade(GlobalWork work, @Qualifier("firstJdbc") JdbcTemplate first) {
            this.work = work;
            this.first = first;
        }

        @Transactional("firstTx")
        public void localAroundGlobal(long a, long b) {
            first.update("INSERT INTO note (id) VALUES (?)", a + 1000);
            work.writeBoth(a, b);
        }

        @GlobalTransactional
        public void globalAroundLocal(long a, long b, boolean fail) {
            work.writeBothLocally(a, b);
            if (fail) {
                throw new IllegalStateException("business failure after the local transaction committed");
            }
        }
    }

    static class GlobalWork {
        private final JdbcTemplate first;
        private final JdbcTemplate second;

        GlobalWork(@Qualifier("firstJdbc") JdbcTemplate first, @Qualifier("secondJdbc") JdbcTemplate second) {
            this.first = first;
            this.second = second;
        }

        @GlobalTransactional
        public void writeBoth(long a, long b) {
            insert(first, a);
            insert(second, b);
        }

        /** A local transaction on the first database (its commit waits for the global one), then the second. */
        @Transactional("firstTx")
        public void writeBothLocally(long a, long b) {
            insert(first, a);
            insert(second, b);
        }
    }
}
