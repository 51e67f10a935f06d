package dev.xatm.sample.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.DbSessionProxy;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The whole product, end to end, with real processes: tm-server's jar and the sample service's jar,
 * shard 0 on PostgreSQL and shard 1 on MariaDB (TM_TEST_* variables; skipped loudly without them,
 * failed under CI=true). Concurrent orders, a tenth of them far over stock, then:
 *
 * <ul>
 *   <li>for every product: initial stock = remaining stock + ordered quantity over both shards;</li>
 *   <li>every 201 is an order row with its product and quantity; no 409 or rolled-back order is;</li>
 *   <li>no prepared branch of ours is left on either database.</li>
 * </ul>
 *
 * The same with tm-server killed (-9) mid-load and restarted, with the service killed mid-load
 * and restarted, and with both databases ending the service's sessions every 2 s under load (at
 * whatever point of the protocol each one was: before, during or right after XA PREPARE or COMMIT). There some requests end without an answer the caller can trust (a broken
 * connection, "outcome unknown"): their orders may exist or not, but the stock invariant must hold
 * exactly and, once recovery is done, nothing may be left prepared.
 *
 * <p>Every test has its own tables (sample.table-prefix) and gtrids (tm.client.gtrid-prefix), so
 * other builds on the same database servers are not disturbed. Logs: target/it-logs/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class OrderServiceEndToEndIT {
    private static final int PRODUCTS = 6;
    private static final int INITIAL_STOCK = 120;
    private static final int THREADS = 4;
    private static final Duration RECOVERY = Duration.ofSeconds(90);
    /** Stock for the cut test: its load runs long enough to sell out {@link #INITIAL_STOCK}, yet stays below {@link OrderLoad#TOO_MANY}. */
    private static final int CUT_STOCK = 20_000;
    private static final Duration CUT_LOAD = Duration.ofSeconds(60);
    private static final Duration CUT_EVERY = Duration.ofSeconds(2);
    private static final List<String> TABLES = List.of("orders", "inventory", "order_id_block", "shard_identity", "flyway_schema_history");

    private TestDatabases dbs;
    private ServerProcess server;
    private final List<ServiceProcess> services = new ArrayList<>();
    private final List<String> tablePrefixes = new ArrayList<>();
    private final List<String> gtridPrefixes = new ArrayList<>();

    @BeforeAll
    void startCoordinator() {
        dbs = TestDatabases.require();
        server = ServerProcess.start("sample-e2e-tm-server", Map.of(
                "tm.server.retry-initial-ms", "100",
                "tm.server.retry-max-ms", "1000",
                "tm.server.keepalive-ms", "2000"));
    }

    @Test
    void concurrentOrdersKeepStockAndOrdersInAgreement() throws Exception {
        Shop shop = open("clean");
        List<OrderLoad.Result> results = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 1).start(THREADS, 150)
                .finish(Duration.ofSeconds(90));

        assertThat(results).hasSize(150);
        assertThat(results).as("every answer is a 201 or a 409 when nothing crashes")
                .allMatch(r -> r.kind() == OrderLoad.Kind.CREATED || r.kind() == OrderLoad.Kind.REJECTED, "201 or 409");
        dbs.awaitNothingPrepared(shop.gtridPrefix, RECOVERY);
        ShardContents state = shop.read();
        shop.assertConsistent(results, state);
        assertThat(state.orders()).as("order rows = 201 answers").hasSize(count(results, OrderLoad.Kind.CREATED));
    }

    /**
     * Shard 1 on MySQL 8.4 (Connector/J) instead of MariaDB, where one is available (Testcontainers,
     * or TM_TEST_MYSQL8_URL): the same orders, the same invariant.
     */
    @Test
    void shardOneOnMysql8() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dbs.mysql().isPresent(),
                "no MySQL 8: a Docker daemon (Testcontainers) or TM_TEST_MYSQL8_URL gives one");
        TestDb mysql = dbs.mysql().get();
        Shop shop = open("mysql8", INITIAL_STOCK, Map.of(), mysql);
        List<OrderLoad.Result> results = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 6).start(THREADS, 100)
                .finish(Duration.ofSeconds(90));

        assertThat(results).as("every answer is a 201 or a 409 when nothing crashes")
                .allMatch(r -> r.kind() == OrderLoad.Kind.CREATED || r.kind() == OrderLoad.Kind.REJECTED, "201 or 409");
        org.awaitility.Awaitility.await("nothing prepared").atMost(RECOVERY).untilAsserted(() -> {
            assertThat(dbs.postgres().preparedBranches(shop.gtridPrefix)).isEmpty();
            assertThat(mysql.preparedBranches(shop.gtridPrefix)).isEmpty();
        });
        ShardContents state = shop.read();
        shop.assertConsistent(results, state);
        assertThat(state.orders()).as("order rows = 201 answers").hasSize(count(results, OrderLoad.Kind.CREATED));
    }

    @Test
    void tmServerKilledMidLoadAndRestarted() throws Exception {
        Shop shop = open("tmkill");
        OrderLoad load = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 2).start(THREADS, 2000);
        await("40 answers before the crash").atMost(Duration.ofSeconds(60)).until(() -> load.responses() >= 40);

        server.kill9();
        int createdBefore = load.created();
        server.restart();
        // the service's agent reconnects on its own and the coordinator finishes what it decided
        shop.service.awaitHealthy(RECOVERY);
        await("30 more orders committed after the restart").atMost(RECOVERY).until(() -> load.created() >= createdBefore + 30);
        load.stop();
        List<OrderLoad.Result> results = load.finish(Duration.ofSeconds(60));

        dbs.awaitNothingPrepared(shop.gtridPrefix, RECOVERY);
        shop.assertConsistent(results, shop.read());
    }

    @Test
    void serviceKilledMidLoadAndRestarted() throws Exception {
        Shop shop = open("svckill");
        OrderLoad load = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 3).start(THREADS, 2000);
        await("40 answers before the crash").atMost(Duration.ofSeconds(60)).until(() -> load.responses() >= 40);

        shop.service.kill9();
        int createdBefore = load.created();
        // Same agent id and shards: at start-up its agent finds the dead instance's prepared
        // branches by XA RECOVER and asks the coordinator what became of them.
        shop.service.restart();
        await("30 more orders committed after the restart").atMost(RECOVERY).until(() -> load.created() >= createdBefore + 30);
        load.stop();
        List<OrderLoad.Result> results = load.finish(Duration.ofSeconds(60));

        dbs.awaitNothingPrepared(shop.gtridPrefix, RECOVERY);
        shop.assertConsistent(results, shop.read());
    }

    /**
     * Both databases end every session of the service every {@link #CUT_EVERY} while orders run for
     * {@link #CUT_LOAD} ({@code pg_terminate_backend}, {@code KILL CONNECTION}; the service reaches
     * them through a {@link DbSessionProxy}, so only its sessions are cut). A PREPARE, COMMIT or
     * ROLLBACK whose answer is lost leaves its branch in doubt, finished by xid on a fresh connection,
     * and the recovery sweep (every 2 s here, 10 s safety interval) bounds any other leak: nothing
     * stays prepared for longer than that once the cuts stop; the stock invariant holds; every 201 is
     * in the database; orders go through again afterwards. A minute of load: thirty cuts of each database,
     * at whatever point of the protocol each session was.
     */
    @Test
    void databasesCutTheServicesSessionsEveryTwoSecondsUnderLoad() throws Exception {
        try (DbSessionProxy pgCuts = new DbSessionProxy(dbs.postgres()); DbSessionProxy mariaCuts = new DbSessionProxy(dbs.mariadb())) {
            Shop shop = open("cuts", CUT_STOCK, Map.of(
                    "sample.shard0.url", pgCuts.via(dbs.postgres().url()),
                    "sample.shard1.url", mariaCuts.via(dbs.mariadb().url()),
                    "tm.client.recovery-interval", "2s",
                    "tm.client.recovery-safety-interval", "10s"));
            OrderLoad load = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 4).start(THREADS, 1_000_000);
            ScheduledExecutorService cutter = Executors.newSingleThreadScheduledExecutor();
            try {
                cutter.scheduleAtFixedRate(() -> {
                    pgCuts.killAllSessions();
                    mariaCuts.killAllSessions();
                }, CUT_EVERY.toMillis(), CUT_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                Thread.sleep(CUT_LOAD.toMillis());
            } finally {
                cutter.shutdownNow();
                cutter.awaitTermination(10, TimeUnit.SECONDS);
                load.stop();
            }
            List<OrderLoad.Result> results = load.finish(Duration.ofSeconds(60));
            System.out.println("[sample e2e] cuts: " + pgCuts.killed() + " PostgreSQL and " + mariaCuts.killed()
                    + " MariaDB sessions ended under load");
            assertThat(pgCuts.killed()).as("PostgreSQL sessions cut").isPositive();
            assertThat(mariaCuts.killed()).as("MariaDB sessions cut").isPositive();

            // interval + safety interval + time for the answers; without the sweep a leak would stay
            dbs.awaitNothingPrepared(shop.gtridPrefix, Duration.ofSeconds(2 + 10 + 18));
            shop.assertConsistent(results, shop.read());
            assertThat(count(results, OrderLoad.Kind.CREATED)).as("orders acknowledged across the cuts").isGreaterThan(50);

            // A session the last cut ended may still sit idle in the pool; Hikari tests a connection that
            // has been idle for more than 500 ms before lending it, so the check starts after that.
            Thread.sleep(1_500);
            List<OrderLoad.Result> after = new OrderLoad(shop.service.baseUrl(), PRODUCTS, 5).start(2, 30).finish(Duration.ofSeconds(60));
            assertThat(after).as("orders go through once the cuts stop (no lock held by a leaked branch)")
                    .allMatch(r -> r.kind() == OrderLoad.Kind.CREATED || r.kind() == OrderLoad.Kind.REJECTED, "201 or 409");
            dbs.awaitNothingPrepared(shop.gtridPrefix, RECOVERY);
            List<OrderLoad.Result> all = new ArrayList<>(results);
            all.addAll(after);
            shop.assertConsistent(all, shop.read());
        }
    }

    @AfterEach
    void stopServices() {
        for (ServiceProcess s : services) {
            s.close();
        }
    }

    @AfterAll
    void cleanUp() throws SQLException {
        if (server != null) {
            server.close();
        }
        if (dbs != null) {
            List<TestDb> all = new ArrayList<>(dbs.both());
            dbs.mysql().ifPresent(all::add);
            for (String prefix : gtridPrefixes) {
                for (TestDb db : all) {
                    db.rollbackLeftovers(prefix);
                }
            }
            for (String prefix : tablePrefixes) {
                for (TestDb db : all) {
                    for (String table : TABLES) {
                        db.dropTable(prefix + table);
                    }
                }
            }
        }
        if (server != null) {
            server.assertTokenNeverLogged();
            for (ServiceProcess s : services) {
                assertThat(s.output()).as("the service must never log the coordinator's token").doesNotContain(server.token());
            }
        }
    }

    // ------------------------------------------------------------------ one shop per test

    /** Starts a service on fresh tables: shard 0 on PostgreSQL, shard 1 on MariaDB. */
    private Shop open(String name) {
        return open(name, INITIAL_STOCK, Map.of());
    }

    /** The same with {@code initialStock} per product and {@code overrides} of the service's properties. */
    private Shop open(String name, int initialStock, Map<String, String> overrides) {
        return open(name, initialStock, overrides, dbs.mariadb());
    }

    /** The same with shard 1 on {@code shard1}. */
    private Shop open(String name, int initialStock, Map<String, String> overrides, TestDb shard1) {
        String unique = Unique.suffix();
        String tablePrefix = "so" + unique + "_";
        String gtridPrefix = "so" + unique;
        tablePrefixes.add(tablePrefix);
        gtridPrefixes.add(gtridPrefix);
        TestDb pg = dbs.postgres();
        TestDb maria = shard1;
        Map<String, String> properties = new HashMap<>();
        properties.put("sample.shard0.url", pg.url());
        properties.put("sample.shard0.username", pg.user());
        properties.put("sample.shard1.url", maria.url());
        properties.put("sample.shard1.username", maria.user());
        properties.put("sample.table-prefix", tablePrefix);
        properties.put("sample.products", Integer.toString(PRODUCTS));
        properties.put("sample.initial-stock", Integer.toString(initialStock));
        properties.put("tm.client.server-address", server.grpcTarget());
        properties.put("tm.client.gtrid-prefix", gtridPrefix);
        properties.put("tm.client.agent-id", "sample-e2e-" + name + "-" + unique);
        properties.put("tm.client.commit-timeout-ms", "20000");
        properties.put("tm.client.keepalive-ms", "2000");
        properties.putAll(overrides);
        Map<String, String> secrets = Map.of(
                "SAMPLE_SHARD0_PASSWORD", pg.password(),
                "SAMPLE_SHARD1_PASSWORD", maria.password(),
                "TM_CLIENT_AUTH_TOKEN", server.token());
        ServiceProcess service = ServiceProcess.start("sample-e2e-" + name, properties, secrets);
        services.add(service);
        return new Shop(service, tablePrefix, gtridPrefix, initialStock, shard1);
    }

    private final class Shop {
        final ServiceProcess service;
        final String tablePrefix;
        final String gtridPrefix;
        final int initialStock;
        final TestDb shard1;

        Shop(ServiceProcess service, String tablePrefix, String gtridPrefix, int initialStock, TestDb shard1) {
            this.service = service;
            this.tablePrefix = tablePrefix;
            this.gtridPrefix = gtridPrefix;
            this.initialStock = initialStock;
            this.shard1 = shard1;
        }

        /** Both shards, read directly (not through the service). */
        ShardContents read() throws SQLException {
            return ShardContents.read(List.of(dbs.postgres(), shard1), tablePrefix);
        }

        void assertConsistent(List<OrderLoad.Result> results, ShardContents state) {
            StockInvariant.assertConsistent(tablePrefix, results, state, PRODUCTS, initialStock);
        }
    }

    private static int count(List<OrderLoad.Result> results, OrderLoad.Kind kind) {
        return (int) results.stream().filter(r -> r.kind() == kind).count();
    }
}
