package dev.xatm.client.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The same application with MariaDB reached through mysql-connector-j (MysqlXAConnection) instead of mariadb-java-client. */
class ConnectorJOnMariaDbIT extends ItSupport {
    Work work;

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties("shop-cj");
        withPg(p);
        withMariaOverConnectorJ(p);
        ConfigurableApplicationContext app = startApp(p);
        work = app.getBean(Work.class);
    }

    @Test
    void commitsAcrossBothDatabases() throws Exception {
        long a = newId();
        long b = newId();
        work.writeBoth(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void rollsBackBothOnAnException() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBothThenFail(a, b)).isInstanceOf(IllegalStateException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    @Test
    void rollsBackWhenMariaDbRejectsTheWrite() throws Exception {
        long taken = newId();
        dbs.mariadb().exec("INSERT INTO " + table + " (id, note) VALUES (" + taken + ", 'already there')");
        long a = newId();
        assertThatThrownBy(() -> work.writeBoth(a, taken))
                .isInstanceOf(org.springframework.dao.DataIntegrityViolationException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
    }
}
