package dev.xatm.client.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.ServerProcess;
import dev.xatm.testkit.Teardown;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;

/**
 * One real tm-server and fresh tables per test class; Spring applications started by the tests.
 * Every gtrid of the class starts with a prefix unique to the run (tm.client.gtrid-prefix), so the
 * checks and the agents' recovery only see this class's branches. After every test: no prepared
 * branch of ours on either database, and the server's output never contains its token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
abstract class ItSupport {
    static final Duration CONVERGE = Duration.ofSeconds(30);

    TestDatabases dbs;
    ServerProcess server;
    String prefix;
    String table;
    private final List<ConfigurableApplicationContext> apps = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong();

    @BeforeAll
    void startServer() throws Exception {
        dbs = TestDatabases.require();
        String unique = Unique.suffix();
        prefix = "it" + unique;
        table = "st_" + getClass().getSimpleName().toLowerCase().replaceAll("[^a-z0-9]", "") + "_" + unique;
        dbs.createTable(table);
        server = ServerProcess.start(getClass().getSimpleName(), serverProperties());
    }

    /** The tm-server's extra properties; a test class adds its own (crash points, 3PC timeouts). */
    Map<String, String> serverProperties() {
        Map<String, String> p = new HashMap<>();
        // Quick resends: the tests wait for recovery and rollbacks to converge.
        p.put("tm.server.retry-initial-ms", "100");
        p.put("tm.server.retry-max-ms", "1000");
        return p;
    }

    @AfterEach
    void nothingPreparedLeft() {
        dbs.awaitNothingPrepared(prefix, CONVERGE);
    }

    @AfterAll
    void stopEverything() throws Exception {
        for (ConfigurableApplicationContext app : apps) {
            app.close();
        }
        Teardown.serverAndDatabases(server, dbs, prefix, table);
    }

    long newId() {
        return ids.incrementAndGet();
    }

    /** The tm-server's cluster id (generated into its log directory): every gtrid of its deployment names it. */
    String clusterId() throws java.io.IOException {
        return java.nio.file.Files.readString(server.dataDir().resolve("cluster-id")).strip();
    }

    /** Settings of an application whose data sources are chosen by the caller. */
    Map<String, Object> baseProperties(String agentId) {
        Map<String, Object> p = new HashMap<>();
        p.put("server.port", "0");
        p.put("spring.application.name", agentId);
        p.put("tm.client.server-address", server.grpcTarget());
        p.put("tm.client.auth-token", server.token());
        p.put("tm.client.agent-id", agentId + "-" + prefix);
        p.put("tm.client.gtrid-prefix", prefix);
        p.put("tm.client.call-timeout-ms", "5000");
        p.put("tm.client.commit-timeout-ms", "30000");
        p.put("it.table", table);
        p.put("management.endpoints.web.exposure.include", "health");
        p.put("management.endpoint.health.show-details", "always");
        p.put("spring.main.banner-mode", "off");
        return p;
    }

    void withPg(Map<String, Object> p) {
        p.put("it.pg.url", dbs.postgres().url());
        p.put("it.pg.user", dbs.postgres().user());
        p.put("it.pg.password", dbs.postgres().password());
    }

    void withMaria(Map<String, Object> p) {
        p.put("it.maria.url", dbs.mariadb().url());
        p.put("it.maria.user", dbs.mariadb().user());
        p.put("it.maria.password", dbs.mariadb().password());
    }

    void withMariaOverConnectorJ(Map<String, Object> p) {
        p.put("it.maria.url", dbs.mariadb().connectorJUrl());
        p.put("it.maria.user", dbs.mariadb().user());
        p.put("it.maria.password", dbs.mariadb().password());
        p.put("it.maria.driver", "com.mysql.cj.jdbc.Driver");
    }

    ConfigurableApplicationContext startApp(Map<String, Object> properties) {
        ConfigurableApplicationContext app = new SpringApplicationBuilder(ItApp.class)
                .web(WebApplicationType.SERVLET)
                .properties(properties)
                .run();
        apps.add(app);
        dev.xatm.client.agent.Agent agent = app.getBean(dev.xatm.client.agent.Agent.class);
        await("agent of " + properties.get("spring.application.name") + " connected").atMost(CONVERGE).until(agent::isConnected);
        return app;
    }

    static int port(ConfigurableApplicationContext app) {
        return Integer.parseInt(app.getEnvironment().getRequiredProperty("local.server.port"));
    }
}
