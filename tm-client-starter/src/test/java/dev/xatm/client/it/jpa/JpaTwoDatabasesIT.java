package dev.xatm.client.it.jpa;

import dev.xatm.client.TmUsageException;
import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Spring Data JPA over enlisted data sources: two EntityManagerFactories (Hibernate), one on
 * PostgreSQL and one on MariaDB, each with its JpaTransactionManager, the coordinator embedded.
 * A global transaction commits both; it rolls both back after {@code save} and after
 * {@code saveAndFlush}; a local {@code @Transactional} (JpaTransactionManager) inside it, or on the
 * same method, commits and rolls back with it; and a local JPA transaction begun before a new global
 * one (the {@code @Transactional} facade) makes the global one refuse to begin, naming the data
 * source, instead of leaving PostgreSQL silently outside it. After every test no prepared branch of
 * ours is left on either database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class JpaTwoDatabasesIT {
    static final Duration CONVERGE = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;
    TestDatabases dbs;
    String prefix;
    String table;
    ConfigurableApplicationContext app;
    JpaWork work;
    JpaFacade facade;
    final AtomicLong ids = new AtomicLong();

    @BeforeAll
    void start() throws Exception {
        dbs = TestDatabases.require();
        String unique = Unique.suffix();
        prefix = "jpa" + unique;
        table = "st_jpa_" + unique;
        dbs.createTable(table);
        Map<String, Object> p = new HashMap<>();
        p.put("spring.application.name", "jpa");
        p.put("spring.main.banner-mode", "off");
        p.put("tm.client.mode", "embedded");
        p.put("tm.client.gtrid-prefix", prefix);
        p.put("tm.server.file.dir", tmp.resolve("tm-data").toString());
        p.put("it.table", table);
        p.put("it.orders.url", dbs.postgres().url());
        p.put("it.orders.user", dbs.postgres().user());
        p.put("it.orders.password", dbs.postgres().password());
        p.put("it.stock.url", dbs.mariadb().url());
        p.put("it.stock.user", dbs.mariadb().user());
        p.put("it.stock.password", dbs.mariadb().password());
        app = new SpringApplicationBuilder(JpaApp.class).web(WebApplicationType.NONE).properties(p).run();
        work = app.getBean(JpaWork.class);
        facade = app.getBean(JpaFacade.class);
    }

    @AfterEach
    void nothingPreparedLeft() {
        dbs.awaitNothingPrepared(prefix, CONVERGE);
    }

    @AfterAll
    void stop() throws Exception {
        if (app != null) {
            app.close();
        }
        if (dbs != null) {
            dbs.cleanUp(prefix, table);
        }
    }

    @Test
    void saveCommitsInBothDatabases() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        String gtrid = work.save(a, b, false);
        assertThat(gtrid).startsWith(prefix + ":");
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void aFailureAfterSaveRollsBackBoth() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> work.save(a, b, true)).hasMessage(JpaWork.FAILURE);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    @Test
    void aFailureAfterSaveAndFlushRollsBackBoth() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> work.saveAndFlush(a, b, true)).hasMessage(JpaWork.FAILURE);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
        // the keys are free again: nothing of the rolled-back branches holds them
        work.saveAndFlush(a, b, false);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void aLocalJpaTransactionInsideTheGlobalOneCommitsWithIt() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        facade.globalAroundLocal(a, b, false);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    /** The local transaction committed (flushed) before the failure; the global rollback still undoes it. */
    @Test
    void aLocalJpaTransactionInsideTheGlobalOneRollsBackWithIt() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> facade.globalAroundLocal(a, b, true)).hasMessage(JpaWork.FAILURE);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    @Test
    void transactionalBesideGlobalTransactionalCommits() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        work.besideEachOther(a, b, false);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void transactionalBesideGlobalTransactionalRollsBack() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> work.besideEachOther(a, b, true)).hasMessage(JpaWork.FAILURE);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /**
     * The {@code @Transactional} facade: its JPA transaction holds a PostgreSQL connection when it
     * calls the {@code @GlobalTransactional} method. Unchecked, the global transaction would enlist
     * MariaDB only and commit it, while the PostgreSQL write stayed in the local transaction, which
     * then rolls back: half a global transaction. The global transaction must refuse to begin.
     */
    @Test
    void aGlobalTransactionInsideALocalJpaTransactionIsRefused() throws Exception {
        long before = ids.incrementAndGet();
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        Throwable thrown = catchThrowable(() -> facade.localAroundGlobal(before, a, b));
        assertThat(dbs.mariadb().ids(table)).as("MariaDB must not commit what PostgreSQL did not").doesNotContain(b);
        assertThat(dbs.postgres().ids(table)).doesNotContain(before, a);
        assertThat(thrown).isInstanceOf(TmUsageException.class)
                .hasMessageContaining("DataSource 'ordersDs'")
                .hasMessageContaining("Put @Transactional inside @GlobalTransactional");
    }
}
