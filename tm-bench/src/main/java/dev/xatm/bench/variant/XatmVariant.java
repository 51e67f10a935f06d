package dev.xatm.bench.variant;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.bench.Db;
import dev.xatm.bench.Workload;
import dev.xatm.bench.Workload.Order;
import dev.xatm.bench.measure.TmServerProcess;
import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.TmUsageException;
import dev.xatm.outbox.Outbox;
import org.springframework.amqp.core.Queue;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.coordinator.log.TxnLog;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * (e) ours with tm-server as a separate process, (h) and (i) ours with one or several tm-server
 * processes on one JDBC store, or (g) ours with the coordinator embedded (tm.client.mode=embedded).
 * Either way the application is what a user writes: a Spring Boot application with two HikariCP
 * DataSource beans, the starter enlisting them, and the order placed through
 * {@link GlobalTransactionTemplate} with plain JDBC on the data sources.
 */
public final class XatmVariant implements Variant {
    private static final String PREFIX = "benchxatm";
    /** Tables of the JDBC store's variants, next to bench_orders in the PostgreSQL database; dropped before each cell. */
    static final String STORE_TABLE_PREFIX = "benchtm_";
    private static final GlobalTransactionDefinition ORDER = GlobalTransactionDefinition.DEFAULT.withName("place-order");

    /** tm-server processes, node 1 first; empty when embedded. */
    private final List<TmServerProcess> servers;
    private final ConfigurableApplicationContext context;
    private final GlobalTransactionTemplate template;
    private final DataSource pg;
    private final DataSource maria;
    private GlobalTransactionDefinition definition = ORDER;
    /** The xatm-outbox variant's outbox (null otherwise): each order also publishes its event. */
    private final Outbox outbox;
    private final LagRecorder lags;

    private XatmVariant(List<TmServerProcess> servers, ConfigurableApplicationContext context) {
        this.servers = List.copyOf(servers);
        this.context = context;
        this.template = context.getBean(GlobalTransactionTemplate.class);
        this.pg = context.getBean("pgDataSource", DataSource.class);
        this.maria = context.getBean("mariaDataSource", DataSource.class);
        this.outbox = context.getBeanProvider(Outbox.class).getIfAvailable();
        this.lags = context.getBeanProvider(LagRecorder.class).getIfAvailable();
    }

    /**
     * (j): like (e), and every order also publishes an OrderPlaced message through the outbox on the
     * PostgreSQL shard (one more insert on a branch the order writes anyway); the relay delivers it
     * to RabbitMQ ({@code TM_TEST_RABBIT_*}, default 127.0.0.1:5672 guest/guest) into a queue nobody
     * consumes, deleted at the end. The report compares it with (e): the throughput ratio, and the
     * relay lag (insert to broker confirm) p99 from {@link #finish()}.
     */
    public static XatmVariant remoteWithOutbox(Db pgDb, Db mariaDb, int threads, Path serverJar, Path workDir,
                                               Map<String, String> extra) throws Exception {
        dropOutbox(pgDb);
        dropOutbox(mariaDb);
        Map<String, String> p = new HashMap<>(extra);
        Map<String, String> env = System.getenv();
        p.put("tm.outbox.enabled", "true");
        p.put("tm.outbox.data-sources", "pgDataSource,mariaDataSource");
        p.put("tm.outbox.table-prefix", OUTBOX_TABLE_PREFIX);
        p.put("spring.rabbitmq.host", env.getOrDefault("TM_TEST_RABBIT_HOST", "127.0.0.1"));
        p.put("spring.rabbitmq.port", env.getOrDefault("TM_TEST_RABBIT_PORT", "5672"));
        p.put("spring.rabbitmq.username", env.getOrDefault("TM_TEST_RABBIT_USER", "guest"));
        p.put("spring.rabbitmq.password", env.getOrDefault("TM_TEST_RABBIT_PASSWORD", "guest"));
        p.put("bench.outbox.queue", OUTBOX_QUEUE);
        return remote(pgDb, mariaDb, threads, serverJar, workDir, List.of(), p);
    }

    static final String OUTBOX_TABLE_PREFIX = "benchob_";
    static final String OUTBOX_QUEUE = "xatm.bench.order-placed";

    private static void dropOutbox(Db db) throws SQLException {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            for (String table : List.of("outbox", "inbox", "outbox_schema_history")) {
                s.execute("DROP TABLE IF EXISTS " + OUTBOX_TABLE_PREFIX + table);
            }
        }
    }

    /** (e): starts tm-server from its jar, then the application against it. */
    public static XatmVariant remote(Db pgDb, Db mariaDb, int threads, Path serverJar, Path workDir, List<String> serverJvmArgs,
                                     Map<String, String> extra) throws Exception {
        TmServerProcess server = new TmServerProcess(serverJar, workDir, serverJvmArgs);
        try {
            Map<String, Object> p = common(pgDb, mariaDb, threads);
            p.putAll(extra);
            p.put("tm.client.mode", "remote");
            p.put("tm.client.server-address", server.grpcTarget());
            p.put("tm.client.auth-token", server.token());
            return new XatmVariant(List.of(server), start(p));
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
    }

    /**
     * (h) with {@code serverCount = 1}, (i) with 3: tm-server processes with node ids 1..serverCount
     * on one JDBC store, its tables ({@value #STORE_TABLE_PREFIX}*) in {@code storeDb} and dropped
     * first, so every cell starts from an empty store as (e) starts from an empty log. The application
     * lists every server in {@code tm.client.server-address}; how it spreads its transactions over
     * them is the starter's business (docs/ha.md).
     */
    public static XatmVariant remoteJdbc(Db pgDb, Db mariaDb, Db storeDb, int serverCount, int threads, Path serverJar, Path workDir,
                                         List<String> serverJvmArgs, Map<String, String> extra) throws Exception {
        if (serverCount < 1) {
            throw new IllegalArgumentException("serverCount must be >= 1, got " + serverCount);
        }
        dropStore(storeDb);
        String token = UUID.randomUUID().toString();
        List<TmServerProcess> servers = new ArrayList<>();
        try {
            // Node 1 alone first: the first server applies the store's schema (Flyway), the others find it there.
            servers.add(launch(storeDb, 1, serverJar, workDir, serverJvmArgs, token));
            servers.get(0).awaitHealthy();
            for (int node = 2; node <= serverCount; node++) {
                servers.add(launch(storeDb, node, serverJar, workDir, serverJvmArgs, token));
            }
            for (TmServerProcess s : servers.subList(1, servers.size())) {
                s.awaitHealthy();
            }
            Map<String, Object> p = common(pgDb, mariaDb, threads);
            p.putAll(extra);
            p.put("tm.client.mode", "remote");
            p.put("tm.client.server-address", servers.stream().map(TmServerProcess::grpcTarget).collect(Collectors.joining(",")));
            p.put("tm.client.auth-token", token);
            return new XatmVariant(servers, start(p));
        } catch (Exception | Error e) {
            for (TmServerProcess s : servers) {
                s.close();
            }
            throw e;
        }
    }

    private static TmServerProcess launch(Db storeDb, int nodeId, Path serverJar, Path workDir, List<String> serverJvmArgs,
                                          String token) throws IOException {
        TmServerProcess.Store store = new TmServerProcess.Store.Jdbc(storeDb.url(), storeDb.user(), storeDb.password(),
                STORE_TABLE_PREFIX, nodeId);
        return TmServerProcess.launch(serverJar, workDir.resolve("tm-" + nodeId), serverJvmArgs, store, token);
    }

    /** The store's tables from an earlier cell: leases, decisions and Flyway's history. */
    private static void dropStore(Db storeDb) throws SQLException {
        try (Connection c = storeDb.connect(); Statement s = c.createStatement()) {
            for (String table : List.of("decision", "node", "cluster", "operator_action", "schema_history")) {
                s.execute("DROP TABLE IF EXISTS " + STORE_TABLE_PREFIX + table);
            }
        }
    }

    /**
     * (f): like (e), with {@code protocol = THREE_PHASE}. Asks the starter with one empty transaction
     * first: {@link Unavailable} while it refuses 3PC, so the report never shows a number it did not measure.
     */
    public static XatmVariant remoteThreePhase(Db pgDb, Db mariaDb, int threads, Path serverJar, Path workDir,
                                               List<String> serverJvmArgs, Map<String, String> extra) throws Exception {
        XatmVariant v = remote(pgDb, mariaDb, threads, serverJar, workDir, serverJvmArgs, extra);
        v.definition = ORDER.withProtocol(CommitProtocol.THREE_PHASE);
        try {
            v.template.execute(v.definition, status -> null);
        } catch (TmUsageException refused) {
            v.close();
            throw new Unavailable("the starter in this build refuses protocol = THREE_PHASE (\"" + refused.getMessage()
                    + "\"); nothing is measured rather than something faked");
        }
        return v;
    }

    /** (g): the coordinator inside this JVM; {@link Unavailable} when this build has no embedded mode yet. */
    public static XatmVariant embedded(Db pgDb, Db mariaDb, int threads, Path workDir, Map<String, String> extra) throws Exception {
        Map<String, Object> p = common(pgDb, mariaDb, threads);
        p.putAll(extra);
        p.put("tm.client.mode", "embedded");
        p.put("tm.server.file.dir", workDir.resolve("tm-data").toString());
        p.put("tm.server.port", "0");
        try {
            return new XatmVariant(List.of(), start(p));
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t.getCause() == null && t.getMessage() != null && t.getMessage().contains("embedded is not available")) {
                    throw new Unavailable("the starter in this build refuses tm.client.mode=embedded (\"" + t.getMessage() + "\")");
                }
            }
            throw e;
        }
    }

    private static Map<String, Object> common(Db pgDb, Db mariaDb, int threads) {
        Map<String, Object> p = new HashMap<>();
        p.put("spring.application.name", "tm-bench");
        p.put("spring.main.banner-mode", "off");
        p.put("logging.level.root", "WARN");
        p.put("tm.client.gtrid-prefix", PREFIX);
        p.put("tm.client.http-propagation", "false");
        // The agent runs XA PREPARE/COMMIT of every branch on this pool; its default (4) would let at most
        // four database round trips of phase work run at once, so it is sized like the connection pools.
        p.put("tm.client.agent-threads", Integer.toString(Math.max(4, threads)));
        p.put("bench.threads", Integer.toString(threads));
        p.put("bench.pg.url", pgDb.url());
        p.put("bench.pg.user", pgDb.user());
        p.put("bench.pg.password", pgDb.password());
        p.put("bench.maria.url", mariaDb.url());
        p.put("bench.maria.user", mariaDb.user());
        p.put("bench.maria.password", mariaDb.password());
        return p;
    }

    private static ConfigurableApplicationContext start(Map<String, Object> properties) {
        return new SpringApplicationBuilder(App.class)
                .web(WebApplicationType.NONE)
                .properties(properties)
                .run();
    }

    @Override
    public void execute(Order order) throws Exception {
        template.execute(definition, status -> {
            try (Connection p = pg.getConnection(); Connection m = maria.getConnection()) {
                Workload.place(p, m, order);
            }
            if (outbox != null) {
                outbox.on(pg).publish(OUTBOX_QUEUE, "product-" + order.productId(),
                        "{\"type\":\"OrderPlaced\",\"orderId\":" + order.id() + ",\"productId\":" + order.productId()
                                + ",\"quantity\":" + order.quantity() + "}");
            }
            return null;
        });
    }

    @Override
    public long coordinatorPid() {
        return servers.isEmpty() ? -1 : servers.get(0).pid();
    }

    @Override
    public List<Long> coordinatorPids() {
        return servers.stream().map(TmServerProcess::pid).toList();
    }

    /**
     * Embedded: the log is a bean of this context, its counters are read directly. Remote: each file-log
     * server's Prometheus endpoint, summed; empty when any server does not publish them (the JDBC store),
     * since a sum with a server missing would understate the log's work.
     */
    @Override
    public Map<String, Long> logCounters() {
        if (!servers.isEmpty()) {
            Map<String, Long> sum = new LinkedHashMap<>();
            for (TmServerProcess s : servers) {
                Map<String, Long> c = s.logCounters();
                if (c.isEmpty()) {
                    return Map.of();
                }
                c.forEach((k, v) -> sum.merge(k, v, Long::sum));
            }
            return sum;
        }
        TxnLog log = context.getBeanProvider(TxnLog.class).getIfAvailable();
        if (log instanceof FileTxnLog f) {
            return Map.of("fsyncs", f.fsyncs(), "records", f.recordsWritten());
        }
        return Map.of();
    }

    /**
     * Remote: the logs' counters come from their closing lines, so the servers are stopped here:
     * {@code server.log.records} and {@code server.log.fsyncs} (file) or {@code server.log.statements}
     * (JDBC), summed over the servers, and with several servers each one's records as
     * {@code server.log.records.node<N>} (how the application spread its transactions).
     */
    @Override
    public Map<String, String> finish() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        if (lags != null) {
            // give the relay a moment to drain what the last orders wrote, then read the lag
            Thread.sleep(2000);
            out.putAll(lags.summary());
            context.getBean(org.springframework.amqp.core.AmqpAdmin.class).deleteQueue(OUTBOX_QUEUE);
        }
        if (servers.isEmpty()) {
            return out;
        }
        context.close(); // the agent says goodbye before the servers go
        servers.forEach(TmServerProcess::signalStop);
        Map<String, Long> sum = new LinkedHashMap<>();
        boolean complete = true;
        for (int i = 0; i < servers.size(); i++) {
            Map<String, Long> counters = servers.get(i).awaitStopAndReadLogCounters();
            complete &= !counters.isEmpty();
            counters.forEach((k, v) -> sum.merge(k, v, Long::sum));
            if (servers.size() > 1 && counters.containsKey("records")) {
                out.put("server.log.records.node" + (i + 1), Long.toString(counters.get("records")));
            }
        }
        if (complete) { // a sum with a server missing would understate the log's work
            sum.forEach((k, v) -> out.put("server.log." + k, Long.toString(v)));
        }
        return out;
    }

    @Override
    public String xidMarker() {
        return PREFIX;
    }

    @Override
    public void close() throws Exception {
        if (context.isActive()) {
            context.close();
        }
        pg.unwrap(HikariDataSource.class).close();
        maria.unwrap(HikariDataSource.class).close();
        for (TmServerProcess s : servers) {
            s.close();
        }
    }

    /** The benchmark's "application": two pools, which the starter wraps and enlists. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        // Exposed as the starter's wrapper, which has no close(): XatmVariant closes the pools after the context.
        @Bean(destroyMethod = "")
        DataSource pgDataSource(Environment env) {
            return pool(env, "pg");
        }

        @Bean(destroyMethod = "")
        DataSource mariaDataSource(Environment env) {
            return pool(env, "maria");
        }

        @Bean
        @ConditionalOnProperty("bench.outbox.queue")
        Queue outboxQueue(Environment env) {
            return new Queue(env.getRequiredProperty("bench.outbox.queue"), true, false, false);
        }

        @Bean
        @ConditionalOnProperty("bench.outbox.queue")
        LagRecorder lagRecorder() {
            return new LagRecorder();
        }

        private static HikariDataSource pool(Environment env, String name) {
            Db db = new Db(env.getRequiredProperty("bench." + name + ".url"), env.getRequiredProperty("bench." + name + ".user"),
                    env.getRequiredProperty("bench." + name + ".password"));
            return db.pool("xatm-" + name, env.getRequiredProperty("bench.threads", Integer.class), true);
        }
    }
}
