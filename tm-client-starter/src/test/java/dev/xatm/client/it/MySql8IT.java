package dev.xatm.client.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.testkit.TestDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * PostgreSQL with MySQL 8.4 (mysql-connector-j): MySQL 8 detaches a prepared branch from its
 * session and lists prepared branches in XA RECOVER only to an account with XA_RECOVER_ADMIN, two
 * ways it differs from MariaDB. Runs where the databases come from Testcontainers, or when
 * {@code TM_TEST_MYSQL8_URL} names a server; skipped otherwise (each test counted).
 */
class MySql8IT extends ItSupport {
    private TestDb mysql;
    private Work work;

    @BeforeEach
    void mysqlAndTheApplication() throws Exception {
        Assumptions.assumeTrue(dbs.mysql().isPresent(), "no MySQL 8: a Docker daemon (Testcontainers) or TM_TEST_MYSQL8_URL gives one");
        if (work == null) {
            mysql = dbs.mysql().get();
            mysql.createTable(table);
            Map<String, Object> p = baseProperties("shop-mysql8");
            withPg(p);
            withMysql(p);
            work = startApp(p).getBean(Work.class);
        }
    }

    /** The application's second data source (it.maria.*) on MySQL, through Connector/J. */
    private void withMysql(Map<String, Object> p) {
        p.put("it.maria.url", mysql.url());
        p.put("it.maria.user", mysql.user());
        p.put("it.maria.password", mysql.password());
        p.put("it.maria.driver", "com.mysql.cj.jdbc.Driver");
    }

    @AfterEach
    void nothingPreparedOnMysql() {
        if (mysql != null) {
            await("no prepared branch of ours on MySQL").atMost(CONVERGE).untilAsserted(() -> assertThat(mysql.preparedBranches(prefix)).isEmpty());
        }
    }

    @AfterAll
    void dropMysqlTable() throws Exception {
        if (mysql != null) {
            mysql.rollbackLeftovers(prefix);
            mysql.dropTable(table);
        }
    }

    @Test
    void commitsAcrossPostgresAndMysql() throws Exception {
        long a = newId();
        long b = newId();
        work.writeBoth(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(mysql.ids(table)).contains(b);
    }

    @Test
    void rollsBackBothOnAnException() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBothThenFail(a, b)).isInstanceOf(IllegalStateException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(mysql.ids(table)).doesNotContain(b);
    }

    /** A branch of ours that a crashed instance left prepared on MySQL is found by XA RECOVER and rolled back. */
    @Test
    void recoveryFindsAnOrphanOnMysql() throws Exception {
        long id = newId();
        TmXid orphan = new TmXid(prefix + ":" + clusterId() + "-orphan." + id, "b1.gone");
        XAConnection xc = mysql.openXa();
        try (Connection c = xc.getConnection(); Statement s = c.createStatement()) {
            XAResource xa = xc.getXAResource();
            xa.start(orphan, XAResource.TMNOFLAGS);
            s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + id + ", 'orphan')");
            xa.end(orphan, XAResource.TMSUCCESS);
            xa.prepare(orphan);
        } finally {
            xc.close();
        }
        assertThat(mysql.preparedBranches(prefix)).contains(orphan);
        // a new agent of the deployment recovers it at start (the coordinator never heard of it: presumed abort)
        Map<String, Object> p = baseProperties("shop-mysql8-restarted");
        withPg(p);
        withMysql(p);
        startApp(p);
        await("the orphan rolled back").atMost(CONVERGE).until(() -> !mysql.preparedBranches(prefix).contains(orphan));
        assertThat(mysql.ids(table)).doesNotContain(id);
    }
}
