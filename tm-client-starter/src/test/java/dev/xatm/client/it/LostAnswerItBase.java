package dev.xatm.client.it;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.protocol.TmXid;
import dev.xatm.testkit.DbSessionProxy;
import dev.xatm.testkit.TestDb;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mariadb.jdbc.MariaDbPoolConnection;
import org.postgresql.core.BaseConnection;
import org.postgresql.xa.PGXAConnection;
import org.springframework.context.ConfigurableApplicationContext;

import javax.transaction.xa.XAResource;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The database ends a branch's session right after it executed XA PREPARE, before the answer reaches
 * the application ({@link DbSessionProxy}): the prepared branch survives in the database, with its
 * locks. The order fails (a PREPARE that did not answer is a NO), nothing stays prepared for longer
 * than the recovery interval plus its safety interval, nothing of the order is written, and the same
 * rows can be written right after. A COMMIT whose answer is lost is finished by xid, and the order
 * stays. A prepared branch of ours that nobody holds (a process that died)
 * is settled by the periodic recovery sweep while the application runs, never before the safety
 * interval. A subclass picks the database whose answer is lost and its driver.
 */
abstract class LostAnswerItBase extends ItSupport {
    static final Duration RECOVERY_INTERVAL = Duration.ofSeconds(1);
    static final Duration SAFETY_INTERVAL = Duration.ofSeconds(3);
    /** Room for a fresh connection, an Inquiry and its answer on a loaded CI machine. */
    static final Duration SLACK = Duration.ofSeconds(5);

    DbSessionProxy proxy;
    ConfigurableApplicationContext app;
    Work work;

    /** The database whose PREPARE answers the proxy loses. */
    abstract TestDb lossy();

    /** Points the application's two data sources at the databases, {@link #lossy()} through {@code proxy}. */
    abstract void dataSources(Map<String, Object> p);

    @BeforeAll
    void startApp() throws Exception {
        proxy = new DbSessionProxy(lossy());
        Map<String, Object> p = baseProperties("lossy-" + getClass().getSimpleName().toLowerCase());
        p.put("management.endpoints.web.exposure.include", "health");
        p.put("tm.client.recovery-interval", RECOVERY_INTERVAL.toMillis() + "ms");
        p.put("tm.client.recovery-safety-interval", SAFETY_INTERVAL.getSeconds() + "s");
        dataSources(p);
        app = startApp(p);
        work = app.getBean(Work.class);
    }

    @AfterAll
    void stopProxy() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aPrepareWhoseAnswerIsLostLeavesNothingPreparedAndTheRowsFree() throws Exception {
        long a = newId();
        long b = newId();
        proxy.armForNextPrepare();

        double settledBefore = settledInDoubt();
        int before = proxy.fired();
        assertThatThrownBy(() -> work.writeBoth(a, b)).isInstanceOf(GlobalRollbackException.class);
        assertThat(proxy.fired()).as("the database ran a PREPARE whose answer was lost").isEqualTo(before + 1);

        await("nothing prepared within the recovery interval plus the safety interval")
                .atMost(RECOVERY_INTERVAL.plus(SAFETY_INTERVAL).plus(SLACK))
                .untilAsserted(() -> {
                    assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
                    assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
                });
        assertThat(dbs.postgres().ids(table)).doesNotContain(a, a + 1_000_000);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);

        // the same keys again: a leaked prepared branch would hold their locks
        work.writeBoth(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a, a + 1_000_000);
        assertThat(dbs.mariadb().ids(table)).contains(b);
        await().atMost(SLACK).until(() -> app.getBean(dev.xatm.client.agent.Agent.class).inDoubtCount() == 0);
        assertThat(settledInDoubt()).as("settled as in doubt, by xid, not left to the sweep").isEqualTo(settledBefore + 1);
    }

    private double settledInDoubt() {
        var c = app.getBean(MeterRegistry.class).find("xatm.client.recovery.settled").tag("source", "in_doubt").counter();
        return c == null ? 0 : c.count();
    }

    /**
     * The database ran the COMMIT of a branch and its answer was lost with the session: the decision
     * (COMMIT, durable at the coordinator) is retried by xid on a fresh connection, the order is
     * acknowledged and stays, and nothing stays prepared.
     */
    @Test
    void aCommitWhoseAnswerIsLostIsFinishedByXidAndTheOrderStays() throws Exception {
        long a = newId();
        long b = newId();
        int before = proxy.fired();
        proxy.armForNextCommit();

        work.writeBoth(a, b); // the coordinator decided COMMIT: acknowledged to the caller
        assertThat(proxy.fired()).as("the database ran a COMMIT whose answer was lost").isEqualTo(before + 1);

        await("nothing prepared").atMost(SLACK).untilAsserted(() -> {
            assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
            assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        });
        assertThat(dbs.postgres().ids(table)).contains(a, a + 1_000_000);
        assertThat(dbs.mariadb().ids(table)).contains(b);
        await().atMost(SLACK).until(() -> app.getBean(dev.xatm.client.agent.Agent.class).inDoubtCount() == 0);
    }

    @Test
    void theRecoverySweepSettlesAnOrphanOnlyAfterTheSafetyInterval() throws Exception {
        MeterRegistry registry = app.getBean(MeterRegistry.class);
        long id = newId();
        // Names our cluster, as a crashed instance of this deployment would have minted it.
        TmXid orphan = new TmXid(prefix + ":" + clusterId() + "-orphan." + id, "b1.gone");
        long start = System.nanoTime(); // before its PREPARE: no sweep can have seen it earlier
        prepareOrphan(lossy(), orphan, id);

        Thread.sleep(Math.max(0, SAFETY_INTERVAL.toMillis() / 2 - Duration.ofNanos(System.nanoTime() - start).toMillis()));
        assertThat(lossy().preparedBranches(prefix)).as("untouched within the safety interval").contains(orphan);
        await("the sweep settled the orphan").atMost(RECOVERY_INTERVAL.plus(SAFETY_INTERVAL).plus(SLACK))
                .until(() -> !lossy().preparedBranches(prefix).contains(orphan));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(SAFETY_INTERVAL);
        assertThat(lossy().ids(table)).doesNotContain(id); // the coordinator never heard of it: presumed abort

        await().atMost(SLACK).untilAsserted(() -> {
            var settled = registry.find("xatm.client.recovery.settled").tag("source", "sweep").counter();
            assertThat(settled).isNotNull();
            assertThat(settled.count()).isGreaterThanOrEqualTo(1);
        });
        assertThat(registry.find("xatm.client.recovery.sweeps").counter().count()).isGreaterThanOrEqualTo(2);
        assertThat(registry.find("xatm.client.branches.in-doubt").gauge().value()).isZero();
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port(app) + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.body()).contains("\"inDoubtBranches\":0").contains("\"oldestInDoubtAge\":\"PT0S\"");
    }

    /** A branch prepared by hand on a session that then ends, as a crashed instance leaves it. */
    private void prepareOrphan(TestDb db, TmXid xid, long id) throws Exception {
        try (Connection c = db.open()) {
            XAResource xa;
            if (db.kind() == TestDb.Kind.POSTGRES) {
                xa = new PGXAConnection(c.unwrap(BaseConnection.class)).getXAResource();
            } else {
                org.mariadb.jdbc.Connection physical = c.unwrap(org.mariadb.jdbc.Connection.class);
                xa = new MariaDbPoolConnection(physical).getXAResource();
                physical.setPoolConnection(null);
            }
            xa.start(xid, XAResource.TMNOFLAGS);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + id + ", 'orphan')");
            }
            xa.end(xid, XAResource.TMSUCCESS);
            xa.prepare(xid);
        }
        await().atMost(SLACK).until(() -> db.preparedBranches(prefix).contains(xid));
    }
}
