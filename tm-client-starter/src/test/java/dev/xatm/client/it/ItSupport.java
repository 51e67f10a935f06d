package dev.xatm.client.it;

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

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One real tm-server and fresh tables per test class; Spring applications started by the tests.
 * Every gtrid of the class starts with a prefix unique to the run (tm.client.gtrid-prefix), so the
 * checks and the agents' recovery only see this class's branches. After every test: no prepared
 * branch of ours on either database, and the server's output never contains its token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ItSupport {
    static final Duration CONVERGE = Duration.ofSeconds(30);
    private static final AtomicLong UNIQUE = new AtomicLong();

    TestDatabases dbs;
    ServerProcess server;
    String prefix;
    String table;
    private final List<ConfigurableApplicationContext> apps = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong();

    @BeforeAll
    void startServer() throws Exception {
        dbs = TestDatabases.require();
        String unique = Long.toString(System.currentTimeMillis(), 36) + Long.toString(ProcessHandle.current().pid() % 1296, 36)
                + UNIQUE.incrementAndGet();
        prefix = "it" + unique;
        table = "st_" + getClass().getSimpleName().toLowerCase().replaceAll("[^a-z0-9]", "") + "_" + unique;
        dbs.pg.createTable(table);
        dbs.maria.createTable(table);
        server = ServerProcess.start(getClass().getSimpleName());
    }

    @AfterEach
    void nothingPreparedLeft() {
        await("no prepared branch of ours left on PostgreSQL and MariaDB").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(dbs.pg.preparedGtrids(prefix)).as("pg_prepared_xacts").isEmpty();
            assertThat(dbs.maria.preparedGtrids(prefix)).as("XA RECOVER").isEmpty();
        });
    }

    @AfterAll
    void stopEverything() throws Exception {
        for (ConfigurableApplicationContext app : apps) {
            app.close();
        }
        String output = null;
        if (server != null) {
            output = server.output();
            server.close();
        }
        if (dbs != null) {
            dbs.pg.rollbackLeftovers(prefix);
            dbs.maria.rollbackLeftovers(prefix);
            dbs.pg.dropTable(table);
            dbs.maria.dropTable(table);
        }
        if (output != null) {
            assertThat(output).as("tm-server output must never contain the auth token").doesNotContain(server.token);
        }
    }

    long newId() {
        return ids.incrementAndGet();
    }

    /** Settings of an application whose data sources are chosen by the caller. */
    Map<String, Object> baseProperties(String agentId) {
        Map<String, Object> p = new HashMap<>();
        p.put("server.port", "0");
        p.put("spring.application.name", agentId);
        p.put("tm.client.server-address", server.address());
        p.put("tm.client.auth-token", server.token);
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
        p.put("it.pg.url", dbs.pg.url());
        p.put("it.pg.user", dbs.pg.user());
        p.put("it.pg.password", dbs.pg.password());
    }

    void withMaria(Map<String, Object> p) {
        p.put("it.maria.url", dbs.maria.url());
        p.put("it.maria.user", dbs.maria.user());
        p.put("it.maria.password", dbs.maria.password());
    }

    void withMariaOverConnectorJ(Map<String, Object> p) {
        p.put("it.maria.url", dbs.mariaUrlForConnectorJ());
        p.put("it.maria.user", dbs.maria.user());
        p.put("it.maria.password", dbs.maria.password());
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
