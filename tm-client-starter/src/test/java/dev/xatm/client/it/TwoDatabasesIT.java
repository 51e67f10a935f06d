package dev.xatm.client.it;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.client.GlobalTimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One application with a PostgreSQL and a MariaDB (mariadb-java-client) data source, against a real tm-server. */
class TwoDatabasesIT extends ItSupport {
    ConfigurableApplicationContext app;
    Work work;

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties("shop");
        withPg(p);
        withMaria(p);
        app = startApp(p);
        work = app.getBean(Work.class);
    }

    /** Both writes are visible in both databases right after the method returns (wait-for-completion). */
    @Test
    void commitsAcrossBothDatabases() throws Exception {
        long a = newId();
        long b = newId();
        String gtrid = work.writeBoth(a, b);
        assertThat(gtrid).startsWith(prefix + ":");
        assertThat(dbs.postgres().ids(table)).contains(a, a + 1_000_000);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    /**
     * The default commit path is one round trip: the coordinator first hears of the
     * transaction in its commit request, with both votes; it never sends PREPARE or COMMIT (the
     * application commits its own branches and acknowledges), and it ends FINISHED_COMMITTED.
     */
    @Test
    void theCommitIsOneRoundTrip() throws Exception {
        String gtrid = work.writeBoth(newId(), newId());
        AdminApi admin = new AdminApi(server);
        org.awaitility.Awaitility.await("acknowledged").atMost(CONVERGE)
                .until(() -> AdminApi.field(admin.transaction(gtrid), "$.status").equals("FINISHED_COMMITTED"));
        String tx = admin.transaction(gtrid);
        assertThat(AdminApi.historyKinds(tx)).contains("COMMIT_REQUESTED", "VOTE", "DECISION_DURABLE", "FINISHED")
                .doesNotContain("BRANCH_REGISTERED", "PREPARE_SENT");
        assertThat(tx).contains("prepared by its holder before the commit request");
        assertThat(AdminApi.field(tx, "$.branches.length()")).isEqualTo("2");
    }

    /** An exception thrown after writing both rolls both back, and the original exception reaches the caller. */
    @Test
    void rollsBackBothOnAnException() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBothThenFail(a, b)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("business failure");
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** The second database rejects the write (duplicate key): the first database's write is rolled back. */
    @Test
    void rollsBackWhenTheSecondDatabaseRejectsTheWrite() throws Exception {
        long taken = newId();
        dbs.mariadb().exec("INSERT INTO " + table + " (id, note) VALUES (" + taken + ", 'already there')");
        long a = newId();
        assertThatThrownBy(() -> work.writeBoth(a, taken))
                .isInstanceOf(org.springframework.dao.DataIntegrityViolationException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a, a + 1_000_000);
    }

    /** The deadline fires while the method runs: the next database call fails, the method fails, nothing is written. */
    @Test
    void globalTimeoutWhileTheMethodRuns() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.slowThenWrite(a, b)).isInstanceOf(GlobalTimeoutException.class);
        assertThat(work.lateWriteFailure()).isInstanceOf(GlobalTimeoutException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A single branch commits in one phase. */
    @Test
    void singleBranchCommits() throws Exception {
        long a = newId();
        work.writePgOnly(a);
        assertThat(dbs.postgres().ids(table)).contains(a);
    }

    /** A local @Transactional that rolls back dooms the global transaction even if the business code swallows its exception. */
    @Test
    void localRollbackDoomsTheGlobalTransaction() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.localRollbackInside(a, b)).isInstanceOf(GlobalRollbackException.class)
                .hasMessageContaining("local rollback()");
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** A local @Transactional commit inside the global transaction commits with it, not before. */
    @Test
    void localTransactionalCommitsWithTheGlobalOne() throws Exception {
        long a = newId();
        long b = newId();
        work.localCommitInside(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    /** The health indicator reports the agent's stream (one link: file store, no node id); the counters and the commit timer move. */
    @Test
    void healthAndMetrics() throws Exception {
        var registry = app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
        double before = counter(registry, "committed");
        work.writeBoth(newId(), newId());
        assertThat(counter(registry, "committed")).isEqualTo(before + 1);
        assertThat(registry.find("xatm.client.transactions.begun").tag("protocol", "2PC").counter().count()).isGreaterThanOrEqualTo(1);
        assertThat(registry.find("xatm.client.commit").timer().count()).isGreaterThanOrEqualTo(1);
        var health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port(app) + "/actuator/health")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(health.body()).contains("\"tmClient\"").contains("\"agentId\":\"shop-" + prefix + "\"")
                .containsPattern("\"links\":\\[\\{\"address\":\"127\\.0\\.0\\.1:\\d+\",\"nodeId\":0,\"epoch\":0,\"connected\":true\\}\\]");
        assertThat(health.statusCode()).isEqualTo(200);
    }

    private static double counter(io.micrometer.core.instrument.MeterRegistry r, String outcome) {
        var c = r.find("xatm.client.transactions").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    /** Outside a global transaction the data sources are the plain pools: a local write commits by itself. */
    @Test
    void outsideAGlobalTransactionTheDataSourceIsThePool() throws Exception {
        long a = newId();
        work.insertPg(a);
        assertThat(dbs.postgres().ids(table)).contains(a);
    }
}
