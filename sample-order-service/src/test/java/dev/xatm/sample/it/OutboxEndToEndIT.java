package dev.xatm.sample.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.TestBroker;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * OrderPlaced through the outbox, end to end with real processes: tm-server, the order service
 * (shard 0 on PostgreSQL, shard 1 on MariaDB, outbox on both shards, relay on) and a second instance
 * of it on the same shards that only relays and consumes (the counter: inbox on shard 0), RabbitMQ
 * on 127.0.0.1. 1,000 order attempts, a tenth of them over stock (409, rolled back), and in the
 * middle: kill -9 of the order service (restarted), kill -9 of the relay-and-consumer instance
 * (restarted), RabbitMQ stopped and started (rabbitmqctl stop_app / start_app). Then:
 *
 * <ul>
 *   <li>the orders the consumer counted are exactly the orders in the shards (the committed ones),
 *       each counted once (deliveries = 1 after the inbox);</li>
 *   <li>no rolled-back order (409, 503 rolled_back) was counted; every 201 was;</li>
 *   <li>the outbox is drained on both shards and nothing is left prepared.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class OutboxEndToEndIT {
    private static final int PRODUCTS = 20;
    private static final int INITIAL_STOCK = 2000;
    private static final int ATTEMPTS = 1000;
    private static final Duration CONVERGE = Duration.ofSeconds(180);

    private TestDatabases dbs;
    private TestBroker broker;
    private ServerProcess server;
    private final List<ServiceProcess> services = new ArrayList<>();
    private String tablePrefix;
    private String gtridPrefix;

    @BeforeAll
    void start() {
        dbs = TestDatabases.require();
        broker = TestBroker.require();
        server = ServerProcess.start("outbox-e2e-tm-server", Map.of(
                "tm.server.retry-initial-ms", "100",
                "tm.server.retry-max-ms", "1000",
                "tm.server.keepalive-ms", "2000"));
    }

    @Test
    void everyCommittedOrderIsCountedOnceThroughCrashesAndABrokerRestart() throws Exception {
        String unique = Unique.suffix();
        tablePrefix = "sx" + unique + "_";
        gtridPrefix = "sx" + unique;
        String queue = "xatm.e2e.order-placed." + unique;
        ServiceProcess orders = service("outbox-e2e-orders", unique, queue, false);
        ServiceProcess relay = service("outbox-e2e-relay", unique, queue, true);

        OrderLoad load = new OrderLoad(orders.baseUrl(), PRODUCTS, 21).start(4, ATTEMPTS);
        await("150 answers").atMost(Duration.ofSeconds(120)).until(() -> load.responses() >= 150);
        orders.kill9();
        orders.restart();
        await("400 answers").atMost(Duration.ofSeconds(180)).until(() -> load.responses() >= 400);
        relay.kill9(); // mid-run: its relay may be between the broker's confirm and the mark
        relay.restart();
        await("600 answers").atMost(Duration.ofSeconds(180)).until(() -> load.responses() >= 600);
        if (broker.canRestart()) {
            broker.stopApp();
            try {
                Thread.sleep(5000); // orders keep committing; their messages wait in the outbox
            } finally {
                broker.startApp();
            }
        } else {
            System.err.println("!!!!! broker restart skipped: rabbitmqctl cannot manage " + broker);
        }
        List<OrderLoad.Result> results = load.finish(Duration.ofSeconds(300));
        assertThat(results).hasSize(ATTEMPTS);

        dbs.awaitNothingPrepared(gtridPrefix, CONVERGE);
        ShardContents shards = ShardContents.read(List.of(dbs.postgres(), dbs.mariadb()), tablePrefix);
        Set<Long> committed = shards.orders().keySet();
        await("every committed order counted, outbox drained").atMost(CONVERGE).pollInterval(Duration.ofSeconds(1))
                .until(() -> seen().size() >= committed.size() && pending() == 0);

        Map<Long, Integer> seen = seen();
        assertThat(seen.keySet()).as("counted orders = committed orders").containsExactlyInAnyOrderElementsOf(committed);
        assertThat(seen.values()).as("each counted once (inbox)").allMatch(n -> n == 1);
        Set<Long> created = ids(results, OrderLoad.Kind.CREATED);
        assertThat(seen.keySet()).as("every 201 counted").containsAll(created);
        Set<Long> rolledBack = ids(results, OrderLoad.Kind.REJECTED);
        rolledBack.addAll(ids(results, OrderLoad.Kind.ROLLED_BACK));
        assertThat(seen.keySet()).as("no rolled-back order counted").doesNotContainAnyElementsOf(rolledBack);
        assertThat(created.size()).as("enough orders to mean something").isGreaterThan(ATTEMPTS / 2);
        System.out.printf("outbox e2e: %d attempts, %d committed, %d counted, %d inbox records%n", results.size(), committed.size(),
                seen.size(), inboxRecords());
    }

    private ServiceProcess service(String name, String unique, String queue, boolean consumer) {
        TestDb pg = dbs.postgres();
        TestDb maria = dbs.mariadb();
        Map<String, String> p = new HashMap<>();
        p.put("sample.shard0.url", pg.url());
        p.put("sample.shard0.username", pg.user());
        p.put("sample.shard1.url", maria.url());
        p.put("sample.shard1.username", maria.user());
        p.put("sample.table-prefix", tablePrefix);
        p.put("sample.products", Integer.toString(PRODUCTS));
        p.put("sample.initial-stock", Integer.toString(INITIAL_STOCK));
        p.put("tm.client.server-address", server.grpcTarget());
        p.put("tm.client.gtrid-prefix", gtridPrefix);
        p.put("tm.client.agent-id", name + "-" + unique);
        p.put("tm.client.commit-timeout-ms", "20000");
        p.put("tm.client.keepalive-ms", "2000");
        p.put("tm.outbox.enabled", "true");
        p.put("tm.outbox.relay.poll-interval-ms", "50");
        p.put("tm.outbox.relay.backoff-max-ms", "2000");
        p.put("spring.rabbitmq.host", broker.host());
        p.put("spring.rabbitmq.port", Integer.toString(broker.port()));
        p.put("sample.order-events.queue", queue);
        p.put("sample.order-events.consumer", Boolean.toString(consumer));
        Map<String, String> secrets = Map.of(
                "SAMPLE_SHARD0_PASSWORD", pg.password(),
                "SAMPLE_SHARD1_PASSWORD", maria.password(),
                "SPRING_RABBITMQ_USERNAME", broker.user(),
                "SPRING_RABBITMQ_PASSWORD", broker.password(),
                "TM_CLIENT_AUTH_TOKEN", server.token());
        ServiceProcess s = ServiceProcess.start(name, p, secrets);
        services.add(s);
        return s;
    }

    private Map<Long, Integer> seen() throws SQLException {
        Map<Long, Integer> seen = new HashMap<>();
        try (Connection c = dbs.postgres().open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT order_id, deliveries FROM " + tablePrefix + "order_placed_seen")) {
            while (rs.next()) {
                seen.put(rs.getLong(1), rs.getInt(2));
            }
        }
        return seen;
    }

    private long pending() throws SQLException {
        long n = 0;
        for (TestDb db : dbs.both()) {
            try (Connection c = db.open(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + tablePrefix + "xatm_outbox WHERE sent_at IS NULL")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }

    private long inboxRecords() throws SQLException {
        try (Connection c = dbs.postgres().open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + tablePrefix + "xatm_inbox")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Set<Long> ids(List<OrderLoad.Result> results, OrderLoad.Kind kind) {
        return results.stream().filter(r -> r.kind() == kind && r.orderId() != null).map(OrderLoad.Result::orderId)
                .collect(Collectors.toCollection(java.util.HashSet::new));
    }

    @AfterAll
    void cleanUp() throws SQLException {
        for (ServiceProcess s : services) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
        if (dbs != null && tablePrefix != null) {
            for (TestDb db : dbs.both()) {
                db.rollbackLeftovers(gtridPrefix);
                for (String t : List.of("orders", "inventory", "order_id_block", "shard_identity", "flyway_schema_history",
                        "order_placed_seen", "xatm_outbox", "xatm_inbox", "xatm_outbox_schema_history")) {
                    db.dropTable(tablePrefix + t);
                }
            }
        }
        if (server != null) {
            for (ServiceProcess s : services) {
                assertThat(s.output()).as("no secret in the service's log").doesNotContain(server.token());
            }
        }
    }
}
