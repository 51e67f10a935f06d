package dev.xatm.sample.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.protocol.TmXid;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two independent deployments on one PostgreSQL and one MariaDB server, each with its own databases
 * (xatm_test and xatm_test_b) and its own coordinator, both with the default settings (same gtrid
 * prefix). MariaDB's XA RECOVER lists every prepared branch of the server, so each deployment's agent
 * sees the other's branches with our format id and our prefix. Before cluster ids, the second
 * deployment's agent took them for its own, its coordinator presumed them aborted, and it rolled back
 * branches the first had committed on its other shard: the stock invariant broke.
 *
 * <p>Each test: orders on both; the first service is killed (-9) under load until it leaves prepared
 * branches behind; the second service is restarted, runs XA RECOVER, and must leave them alone (and
 * say so in its log, naming the first's cluster); then the first restarts and finishes its own. Both
 * invariants hold and nothing is left prepared. Once with two tm-servers (separate file logs), once
 * with two applications in embedded mode, each its own coordinator.
 */
@RequiresDatabases
class TwoDeploymentsIT {
    private static final int PRODUCTS = 4;
    private static final int INITIAL_STOCK = 20_000; // never runs out; OrderLoad's over-stock orders ask for 100,000
    private static final Duration RECOVERY = Duration.ofSeconds(90);
    private static final List<String> TABLES = List.of("orders", "inventory", "order_id_block", "shard_identity", "flyway_schema_history");
    /** The default gtrid prefix: both deployments use it, as two default installations do. */
    private static final String PREFIX = "xatm";

    private TestDatabases first;
    private TestDatabases second;
    private final List<ServerProcess> servers = new ArrayList<>();
    private final List<Deployment> deployments = new ArrayList<>();

    @TempDir
    Path tmp;

    @BeforeEach
    void databases() {
        first = TestDatabases.require();
        second = first.siblings("_b");
    }

    @Test
    void twoTmServersLeaveEachOthersPreparedBranchesAlone() throws Exception {
        ServerProcess tmA = server("two-deploy-tm-a");
        ServerProcess tmB = server("two-deploy-tm-b");
        Deployment one = remote("one", first, tmA);
        Deployment two = remote("two", second, tmB);

        killedUnderLoadThenRecovered(one, two);
    }

    @Test
    void twoEmbeddedApplicationsLeaveEachOthersPreparedBranchesAlone() throws Exception {
        Deployment one = embedded("emb-one", first);
        Deployment two = embedded("emb-two", second);

        killedUnderLoadThenRecovered(one, two);
    }

    private void killedUnderLoadThenRecovered(Deployment one, Deployment two) throws Exception {
        assertThat(one.cluster()).as("each deployment generated its own cluster id").isNotEqualTo(two.cluster());
        OrderLoad loadTwo = new OrderLoad(two.service.baseUrl(), PRODUCTS, 21).start(2, 100_000);
        List<OrderLoad.Result> resultsOne = new ArrayList<>();

        // 1. Kill the first under load until it leaves prepared branches on the shared MariaDB server.
        Set<TmXid> leftByOne = Set.of();
        for (int attempt = 1; attempt <= 6 && leftByOne.isEmpty(); attempt++) {
            if (attempt > 1) {
                one.service.restart();
                await("the first service's own leftovers recovered").atMost(RECOVERY)
                        .until(() -> prepared(one.cluster(), first.mariadb()).isEmpty() && prepared(one.cluster(), first.postgres()).isEmpty());
            }
            OrderLoad load = new OrderLoad(one.service.baseUrl(), PRODUCTS, attempt).start(6, 100_000);
            await("orders placed before the crash").atMost(Duration.ofSeconds(60)).until(() -> load.created() >= 30);
            one.service.kill9();
            load.stop();
            resultsOne.addAll(load.finish(Duration.ofSeconds(60)));
            leftByOne = prepared(one.cluster(), first.mariadb());
        }
        assertThat(leftByOne).as("the first deployment left prepared branches on MariaDB (kill -9 under load, 6 tries)").isNotEmpty();
        System.out.println("[two deployments] " + one.name + " (cluster " + one.cluster() + ") left " + leftByOne.size()
                + " prepared branch(es) on MariaDB: " + leftByOne);

        // 2. The second restarts; its agent's XA RECOVER on its MariaDB database lists the first's branches.
        two.service.kill9();
        two.service.restart();
        await("the second deployment's log says what it left alone").atMost(RECOVERY)
                .until(() -> two.service.output().contains("lists prepared branches that are not this deployment's")
                        && two.service.output().contains("xatm cluster " + one.cluster()));
        await("the second deployment's own branches recovered").atMost(RECOVERY)
                .until(() -> prepared(two.cluster(), second.mariadb()).isEmpty() && prepared(two.cluster(), second.postgres()).isEmpty());
        assertThat(prepared(one.cluster(), first.mariadb())).as("the first deployment's branches are untouched")
                .containsAll(leftByOne);
        assertThat(two.service.output()).as("the second never asked about, nor finished, the first's branches")
                .doesNotContain("XA RECOVER found prepared branch " + PREFIX + ":" + one.cluster())
                .doesNotContain("Recovered branch " + PREFIX + ":" + one.cluster());

        // 3. The first comes back and finishes its own.
        one.service.restart();
        OrderLoad after = new OrderLoad(one.service.baseUrl(), PRODUCTS, 99).start(2, 40);
        resultsOne.addAll(after.finish(Duration.ofSeconds(90)));
        loadTwo.stop();
        List<OrderLoad.Result> resultsTwo = loadTwo.finish(Duration.ofSeconds(60));

        for (Deployment d : deployments) {
            await(d.name + ": nothing of ours left prepared").atMost(RECOVERY).untilAsserted(() -> {
                for (TestDb db : d.dbs.both()) {
                    assertThat(prepared(d.cluster(), db)).as(d.name + " on " + db).isEmpty();
                }
            });
        }
        StockInvariant.assertConsistent(one.name, resultsOne, one.read(), PRODUCTS, INITIAL_STOCK);
        StockInvariant.assertConsistent(two.name, resultsTwo, two.read(), PRODUCTS, INITIAL_STOCK);
    }

    /** Our prepared branches of {@code cluster} on {@code db}: every gtrid of it starts with "xatm:<cluster>-". */
    private static Set<TmXid> prepared(String cluster, TestDb db) throws SQLException {
        return new HashSet<>(db.preparedBranches(PREFIX + ":" + cluster));
    }

    @AfterEach
    void cleanUp() throws SQLException {
        for (Deployment d : deployments) {
            d.service.close();
        }
        for (ServerProcess s : servers) {
            s.close();
        }
        for (Deployment d : deployments) {
            for (TestDb db : d.dbs.both()) {
                if (d.clusterOrNull() != null) {
                    db.rollbackLeftovers(PREFIX + ":" + d.clusterOrNull());
                }
                for (String table : TABLES) {
                    db.dropTable(d.tablePrefix + table);
                }
            }
        }
    }

    // ------------------------------------------------------------------ deployments

    private ServerProcess server(String name) {
        ServerProcess s = ServerProcess.start(name, Map.of(
                "tm.server.retry-initial-ms", "100",
                "tm.server.retry-max-ms", "1000",
                "tm.server.keepalive-ms", "2000"));
        servers.add(s);
        return s;
    }

    private Deployment remote(String name, TestDatabases dbs, ServerProcess tm) {
        Map<String, String> p = shopProperties(name, dbs);
        p.put("tm.client.server-address", tm.grpcTarget());
        Deployment d = new Deployment(name, dbs, p, Map.of("TM_CLIENT_AUTH_TOKEN", tm.token()), tm.dataDir());
        deployments.add(d);
        return d;
    }

    private Deployment embedded(String name, TestDatabases dbs) throws IOException {
        Path log = Files.createDirectories(tmp.resolve(name + "-log"));
        Map<String, String> p = shopProperties(name, dbs);
        p.put("tm.client.mode", "embedded");
        p.put("tm.server.file.dir", log.toString());
        p.put("tm.server.retry-initial-ms", "100");
        p.put("tm.server.retry-max-ms", "1000");
        Deployment d = new Deployment(name, dbs, p, Map.of(), log);
        deployments.add(d);
        return d;
    }

    private Map<String, String> shopProperties(String name, TestDatabases dbs) {
        String unique = Unique.suffix();
        Map<String, String> p = new HashMap<>();
        p.put("sample.shard0.url", dbs.postgres().url());
        p.put("sample.shard0.username", dbs.postgres().user());
        p.put("sample.shard1.url", dbs.mariadb().url());
        p.put("sample.shard1.username", dbs.mariadb().user());
        p.put("sample.table-prefix", "td" + unique + "_");
        p.put("sample.products", Integer.toString(PRODUCTS));
        p.put("sample.initial-stock", Integer.toString(INITIAL_STOCK));
        p.put("tm.client.agent-id", "two-deploy-" + name + "-" + unique);
        p.put("tm.client.commit-timeout-ms", "20000");
        p.put("tm.client.keepalive-ms", "2000");
        return p; // no tm.client.gtrid-prefix: both deployments keep the default
    }

    private final class Deployment {
        final String name;
        final TestDatabases dbs;
        final String tablePrefix;
        final ServiceProcess service;
        /** Where the deployment's log keeps its cluster id (the file cluster-id). */
        private final Path logDir;

        Deployment(String name, TestDatabases dbs, Map<String, String> properties, Map<String, String> tokens, Path logDir) {
            this.name = name;
            this.dbs = dbs;
            this.tablePrefix = properties.get("sample.table-prefix");
            this.logDir = logDir;
            Map<String, String> env = new HashMap<>(tokens);
            env.put("SAMPLE_SHARD0_PASSWORD", dbs.postgres().password());
            env.put("SAMPLE_SHARD1_PASSWORD", dbs.mariadb().password());
            this.service = ServiceProcess.start("two-deploy-" + name, properties, env);
        }

        String cluster() throws IOException {
            return Files.readString(logDir.resolve("cluster-id")).strip();
        }

        String clusterOrNull() {
            try {
                return cluster();
            } catch (IOException e) {
                return null;
            }
        }

        ShardContents read() throws SQLException {
            return ShardContents.read(List.of(dbs.postgres(), dbs.mariadb()), tablePrefix);
        }
    }
}
