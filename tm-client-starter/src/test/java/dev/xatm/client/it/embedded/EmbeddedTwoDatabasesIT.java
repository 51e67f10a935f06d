package dev.xatm.client.it.embedded;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.coordinator.transport.GrpcServer;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Embedded mode on real databases: the "orders" application runs the coordinator in-process, with a
 * PostgreSQL and a MariaDB data source. Commit and rollback across both, the READ_ONLY vote on each
 * database, and WebClient propagation over real HTTP to an "inventory" service (remote mode) that
 * joins through the embedded coordinator's network listener (tm.client.embedded.listen). After
 * every test no prepared branch of ours is left on either database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class EmbeddedTwoDatabasesIT {
    static final Duration CONVERGE = Duration.ofSeconds(30);

    @TempDir
    static Path tmp;
    TestDatabases dbs;
    String prefix;
    String table;
    final List<ConfigurableApplicationContext> apps = new ArrayList<>();
    final AtomicLong ids = new AtomicLong();
    ConfigurableApplicationContext orders;
    EmbeddedWork work;
    String inventoryUrl;

    @BeforeAll
    void start() throws Exception {
        dbs = TestDatabases.require();
        String unique = Unique.suffix();
        prefix = "emb" + unique;
        table = "st_embedded_" + unique;
        dbs.createTable(table);
        String token = "embedded-" + unique + "-0123456789abcdef";

        Map<String, Object> o = common("orders");
        o.put("tm.client.mode", "embedded");
        o.put("tm.server.file.dir", tmp.resolve("tm-data").toString());
        o.put("tm.server.auth-token", token);
        o.put("tm.client.embedded.listen", "true");
        // read-only votes are opt-in on MySQL/MariaDB (a SELECT may call a function that writes); this
        // application's SELECTs call none, so it opts in, and the READ_ONLY vote is tested on MariaDB too
        o.put("tm.client.read-only-votes-on-mysql", "true");
        o.put("tm.server.port", "0");
        o.put("tm.server.retry-initial-ms", "100");
        o.put("tm.server.retry-max-ms", "1000");
        o.put("it.first.url", dbs.postgres().url());
        o.put("it.first.user", dbs.postgres().user());
        o.put("it.first.password", dbs.postgres().password());
        o.put("it.second.url", dbs.mariadb().url());
        o.put("it.second.user", dbs.mariadb().user());
        o.put("it.second.password", dbs.mariadb().password());
        orders = start(o);
        work = orders.getBean(EmbeddedWork.class);

        Map<String, Object> i = common("inventory");
        i.put("tm.client.server-address", "127.0.0.1:" + orders.getBean(GrpcServer.class).port());
        i.put("tm.client.auth-token", token);
        i.put("it.second.url", dbs.mariadb().url());
        i.put("it.second.user", dbs.mariadb().user());
        i.put("it.second.password", dbs.mariadb().password());
        ConfigurableApplicationContext inventory = start(i);
        inventoryUrl = "http://127.0.0.1:" + inventory.getEnvironment().getRequiredProperty("local.server.port");
    }

    private Map<String, Object> common(String name) {
        Map<String, Object> p = new HashMap<>();
        p.put("spring.application.name", name);
        p.put("spring.main.banner-mode", "off");
        p.put("server.port", "0");
        p.put("tm.client.agent-id", name + "-" + prefix);
        p.put("tm.client.gtrid-prefix", prefix);
        p.put("it.table", table);
        return p;
    }

    private ConfigurableApplicationContext start(Map<String, Object> properties) {
        ConfigurableApplicationContext app = new SpringApplicationBuilder(EmbeddedApp.class)
                .web(WebApplicationType.SERVLET).properties(properties).run();
        apps.add(app);
        return app;
    }

    @AfterEach
    void nothingPreparedLeft() {
        dbs.awaitNothingPrepared(prefix, CONVERGE);
    }

    @AfterAll
    void stop() throws Exception {
        // the remote-mode service first: its agent leaves before the coordinator it talks to
        for (int k = apps.size() - 1; k >= 0; k--) {
            apps.get(k).close();
        }
        if (dbs != null) {
            dbs.cleanUp(prefix, table);
        }
    }

    @Test
    void commitsAcrossPostgresAndMariaDb() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        work.writeBoth(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void rollsBackBothOnAnException() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> work.writeBothThenFail(a, b)).isInstanceOf(IllegalStateException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /**
     * MariaDB only reads (with the opt-in above): its branch finishes at prepare (READ_ONLY), nothing
     * stays prepared, PostgreSQL commits.
     */
    @Test
    void aReadOnlyMariaDbBranchVotesReadOnly() throws Exception {
        long a = ids.incrementAndGet();
        String gtrid = work.writeFirstReadSecond(a);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(states(gtrid)).containsExactlyInAnyOrder(Branch.State.COMMITTED, Branch.State.READ_ONLY);
        assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
    }

    /** PostgreSQL only reads (and confirms it wrote nothing): READ_ONLY; MariaDB commits. */
    @Test
    void aReadOnlyPostgresBranchVotesReadOnly() throws Exception {
        long b = ids.incrementAndGet();
        String gtrid = work.writeSecondReadFirst(b);
        assertThat(dbs.mariadb().ids(table)).contains(b);
        assertThat(states(gtrid)).containsExactlyInAnyOrder(Branch.State.READ_ONLY, Branch.State.COMMITTED);
        assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
    }

    private List<Branch.State> states(String gtrid) {
        // the READ_ONLY branch is finished at prepare; the other one once its COMMIT was acknowledged
        List<Branch> branches = orders.getBean(BranchTable.class).branchesOf(gtrid);
        await().atMost(CONVERGE).until(() -> branches.stream().allMatch(Branch::isFinished));
        return branches.stream().map(Branch::state).toList();
    }

    /** A WebClient call carries TM-XID: the downstream's MariaDB write commits with the caller's PostgreSQL write. */
    @Test
    void webClientCallsJoinTheGlobalTransaction() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        work.writeFirstAndCallDownstream(a, b, inventoryUrl, false);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }

    @Test
    void aCallerFailureAfterAWebClientCallRollsBackTheDownstreamWrite() throws Exception {
        long a = ids.incrementAndGet();
        long b = ids.incrementAndGet();
        assertThatThrownBy(() -> work.writeFirstAndCallDownstream(a, b, inventoryUrl, true)).isInstanceOf(IllegalStateException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }
}
