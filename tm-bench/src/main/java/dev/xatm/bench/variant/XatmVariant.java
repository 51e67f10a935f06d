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
import dev.xatm.server.log.FileTxnLog;
import dev.xatm.server.log.TxnLog;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * (e) ours with tm-server as a separate process, or (g) ours with the coordinator embedded
 * (tm.client.mode=embedded). Either way the application is what a user writes: a Spring Boot
 * application with two HikariCP DataSource beans, the starter enlisting them, and the order placed
 * through {@link GlobalTransactionTemplate} with plain JDBC on the data sources.
 */
public final class XatmVariant implements Variant {
    private static final String PREFIX = "benchxatm";
    private static final GlobalTransactionDefinition ORDER = GlobalTransactionDefinition.DEFAULT.withName("place-order");

    private final TmServerProcess server;
    private final ConfigurableApplicationContext context;
    private final GlobalTransactionTemplate template;
    private final DataSource pg;
    private final DataSource maria;
    private GlobalTransactionDefinition definition = ORDER;

    private XatmVariant(TmServerProcess server, ConfigurableApplicationContext context) {
        this.server = server;
        this.context = context;
        this.template = context.getBean(GlobalTransactionTemplate.class);
        this.pg = context.getBean("pgDataSource", DataSource.class);
        this.maria = context.getBean("mariaDataSource", DataSource.class);
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
            return new XatmVariant(server, start(p));
        } catch (Exception | Error e) {
            server.close();
            throw e;
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
            return new XatmVariant(null, start(p));
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
            return null;
        });
    }

    @Override
    public long coordinatorPid() {
        return server == null ? -1 : server.pid();
    }

    /** Embedded: the log is a bean of this context, its counters are read directly. */
    @Override
    public Map<String, Long> logCounters() {
        if (server != null) {
            return Map.of();
        }
        TxnLog log = context.getBeanProvider(TxnLog.class).getIfAvailable();
        if (log instanceof FileTxnLog f) {
            return Map.of("fsyncs", f.fsyncs(), "records", f.recordsWritten());
        }
        return Map.of();
    }

    /** Remote: the log's counters come from its closing line, so the server is stopped here. */
    @Override
    public Map<String, String> finish() throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        if (server != null) {
            context.close(); // the agent says goodbye before the server goes
            long[] counters = server.stopAndReadLogCounters();
            if (counters != null) {
                out.put("server.log.records", Long.toString(counters[0]));
                out.put("server.log.fsyncs", Long.toString(counters[1]));
            }
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
        if (server != null) {
            server.close();
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

        private static HikariDataSource pool(Environment env, String name) {
            Db db = new Db(env.getRequiredProperty("bench." + name + ".url"), env.getRequiredProperty("bench." + name + ".user"),
                    env.getRequiredProperty("bench." + name + ".password"));
            return db.pool("xatm-" + name, env.getRequiredProperty("bench.threads", Integer.class), true);
        }
    }
}
