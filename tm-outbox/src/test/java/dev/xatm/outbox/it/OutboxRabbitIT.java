package dev.xatm.outbox.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.outbox.Outbox;
import dev.xatm.testkit.TestBroker;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.amqp.core.AmqpAdmin;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The outbox on real PostgreSQL, MariaDB and RabbitMQ (TM_TEST_* variables; skipped loudly without
 * them, failed under CI=true), with the coordinator embedded. Two application instances share the
 * outbox tables, both run a relay; the first also runs the consumer (inbox on MariaDB, counter on
 * PostgreSQL, one global transaction per message). Checks:
 *
 * <ul>
 *   <li>a rolled-back global transaction publishes nothing; a committed one is counted exactly once;</li>
 *   <li>publish outside a global transaction, or on a data source without an outbox, is refused;</li>
 *   <li>a relay "crash" between the broker's confirm and the mark delivers twice, counted once;</li>
 *   <li>with two relays, every key's messages reach the consumer in seq order;</li>
 *   <li>the broker stopped (rabbitmqctl stop_app) turns the health DOWN and loses nothing: once it is
 *       back every committed message is counted exactly once.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class OutboxRabbitIT {
    private static final Duration DELIVERY = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    private TestDatabases dbs;
    private TestBroker broker;
    private String prefix;
    private String counter;
    private String queue;
    private final List<ConfigurableApplicationContext> apps = new ArrayList<>();
    private ConfigurableApplicationContext app;
    private GlobalTransactionTemplate tx;
    private Outbox outbox;
    private JdbcTemplate pg;
    private OutboxTestApp.Counting consumer;

    @BeforeAll
    void start() throws Exception {
        dbs = TestDatabases.require();
        broker = TestBroker.require();
        String unique = Unique.suffix();
        prefix = "ob" + unique + "_";
        counter = prefix + "counter";
        queue = "xatm.it.outbox." + unique;
        try (var c = dbs.postgres().open(); var s = c.createStatement()) {
            s.execute("CREATE TABLE " + counter + " (name VARCHAR(20) PRIMARY KEY, n BIGINT NOT NULL)");
            s.execute("INSERT INTO " + counter + " VALUES ('messages', 0)");
        }
        app = start("one", true, unique);
        start("two", false, unique); // a second instance: its relay competes for the same rows
        tx = app.getBean(GlobalTransactionTemplate.class);
        outbox = app.getBean(Outbox.class);
        pg = app.getBean("pgJdbc", JdbcTemplate.class);
        consumer = app.getBean(OutboxTestApp.Counting.class);
    }

    private ConfigurableApplicationContext start(String name, boolean consumer, String unique) {
        Map<String, Object> p = new HashMap<>();
        p.put("spring.application.name", "outbox-it-" + name);
        p.put("spring.main.banner-mode", "off");
        p.put("tm.client.mode", "embedded");
        p.put("tm.server.file.dir", tmp.resolve("tm-" + name).toString());
        p.put("tm.server.auth-token", "outbox-it-" + unique + "-0123456789abcdef");
        p.put("tm.client.agent-id", "outbox-it-" + name + "-" + unique);
        p.put("tm.client.gtrid-prefix", "ob" + unique + name.charAt(0));
        p.put("tm.outbox.enabled", "true");
        p.put("tm.outbox.data-sources", "pgDs,mariaDs");
        p.put("tm.outbox.table-prefix", prefix);
        p.put("tm.outbox.relay.poll-interval-ms", "50");
        p.put("tm.outbox.relay.batch-size", "20");
        p.put("tm.outbox.relay.backoff-initial-ms", "100");
        p.put("tm.outbox.relay.backoff-max-ms", "1000");
        p.put("tm.outbox.relay.confirm-timeout-ms", "3000");
        p.put("tm.outbox.relay.count-interval-ms", "200");
        p.put("spring.rabbitmq.host", broker.host());
        p.put("spring.rabbitmq.port", broker.port());
        p.put("spring.rabbitmq.username", broker.user());
        p.put("spring.rabbitmq.password", broker.password());
        p.put("it.queue", queue);
        p.put("it.counter-table", counter);
        if (consumer) {
            p.put("it.consumer", "true");
        }
        put(p, "pg", dbs.postgres());
        put(p, "maria", dbs.mariadb());
        ConfigurableApplicationContext c = new SpringApplicationBuilder(OutboxTestApp.class).web(WebApplicationType.NONE)
                .properties(p).run();
        apps.add(c);
        return c;
    }

    private static void put(Map<String, Object> p, String name, TestDb db) {
        p.put("it." + name + ".url", db.url());
        p.put("it." + name + ".user", db.user());
        p.put("it." + name + ".password", db.password());
    }

    @Test
    void aRolledBackTransactionPublishesNothingAndACommittedOneIsCountedOnce() {
        long before = count();
        String[] rolledBack = new String[1];
        assertThatThrownBy(() -> tx.execute(GlobalTransactionDefinition.DEFAULT, status -> {
            pg.update("UPDATE " + counter + " SET n = n WHERE name = 'messages'");
            rolledBack[0] = outbox.on("mariaDs").publish(queue, "k-rb", "{\"rolledBack\":true}", Map.of());
            throw new IllegalStateException("business failure");
        })).hasMessage("business failure");
        String committed = tx.execute(GlobalTransactionDefinition.DEFAULT,
                status -> outbox.on("mariaDs").publish(queue, "k-rb", "{\"committed\":true}", Map.of("h", "v")));

        await("the committed message counted").atMost(DELIVERY).until(() -> count() == before + 1);
        // the committed message went after the rolled-back one would have (same key, same outbox): had
        // the rolled-back row existed, it would have been delivered first
        assertThat(ids()).contains(committed).doesNotContain(rolledBack[0]);
        assertThat(rowCount("mariaDs", rolledBack[0])).as("no outbox row of the rolled-back transaction").isZero();
    }

    @Test
    void publishOutsideAGlobalTransactionOrOnADataSourceWithoutOutboxIsRefused() {
        assertThatThrownBy(() -> outbox.publish(queue, "k", "{}", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("inside a global transaction");
        assertThatThrownBy(() -> outbox.on(new org.springframework.jdbc.datasource.SimpleDriverDataSource()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("tm.outbox.data-sources");
    }

    @Test
    void aCrashBetweenConfirmAndMarkDeliversTwiceAndIsCountedOnce() {
        OutboxTestApp.CrashOnce crash = app.getBean(OutboxTestApp.CrashOnce.class);
        OutboxTestApp.CrashOnce other = apps.get(1).getBean(OutboxTestApp.CrashOnce.class);
        long before = count();
        crash.armed.set(1);
        other.armed.set(1); // whichever relay takes the row crashes once
        String id = tx.execute(GlobalTransactionDefinition.DEFAULT, status -> outbox.publish(queue, "k-crash", "{\"crash\":1}"));

        await("delivered twice").atMost(DELIVERY).until(() -> consumer.snapshot().stream().filter(d -> d.messageId().equals(id)).count() >= 2);
        await("counted").atMost(DELIVERY).until(() -> count() == before + 1);
        assertThat(crash.fired.get() + other.fired.get()).isGreaterThanOrEqualTo(1);
        assertThat(consumer.snapshot().stream().filter(d -> d.messageId().equals(id) && d.first()).count())
                .as("the inbox let exactly one delivery through").isEqualTo(1);
        crash.armed.set(0);
        other.armed.set(0);
    }

    @Test
    void twoRelaysKeepEveryKeysOrder() {
        long before = count();
        int messages = 300;
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < messages; i++) {
            String key = "order-key-" + (i % 7);
            int n = i;
            ids.add(tx.execute(GlobalTransactionDefinition.DEFAULT, status -> outbox.on(n % 2 == 0 ? "pgDs" : "mariaDs")
                    .publish(queue, key, "{\"n\":" + n + "}")));
        }
        await("all counted").atMost(DELIVERY).until(() -> count() == before + messages);
        // per (outbox table, key): seq strictly increasing over the first deliveries
        Map<String, Long> last = new LinkedHashMap<>();
        for (OutboxTestApp.Delivery d : consumer.snapshot()) {
            if (!ids.contains(d.messageId()) || !d.first()) {
                continue;
            }
            // seqs of the two tables interleave; the table is recoverable from the sequence each one uses
            String stream = d.key() + "@" + tableOf(d.messageId());
            Long previous = last.put(stream, d.seq());
            assertThat(previous == null || previous < d.seq()).as("order of " + stream + ": " + previous + " then " + d.seq()).isTrue();
        }
        assertThat(last).hasSize(14);
    }

    @Test
    void aBrokerOutageTurnsHealthDownAndLosesNothing() {
        Assumptions.assumeTrue(broker.canRestart(), "rabbitmqctl is needed to stop and start the broker");
        HealthIndicator health = app.getBean("outboxHealthIndicator", HealthIndicator.class);
        long before = count();
        broker.stopApp();
        try {
            for (int i = 0; i < 20; i++) {
                int n = i;
                tx.execute(GlobalTransactionDefinition.DEFAULT, status -> outbox.publish(queue, "k-outage-" + (n % 3), "{\"n\":" + n + "}"));
            }
            await("health DOWN while the broker is away").atMost(Duration.ofSeconds(30))
                    .until(() -> health.health().getStatus().equals(Status.DOWN));
            assertThat(count()).isEqualTo(before);
        } finally {
            broker.startApp();
        }
        await("all 20 counted once the broker is back").atMost(Duration.ofSeconds(90)).until(() -> count() == before + 20);
        await("health UP again").atMost(Duration.ofSeconds(30)).until(() -> health.health().getStatus().equals(Status.UP));
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.getBean(AmqpAdmin.class).deleteQueue(queue);
        }
        for (int k = apps.size() - 1; k >= 0; k--) {
            apps.get(k).close();
        }
        if (dbs != null) {
            for (TestDb db : dbs.both()) {
                for (String t : List.of("outbox", "inbox", "outbox_schema_history")) {
                    db.dropTable(prefix + t);
                }
            }
            dbs.postgres().dropTable(counter);
        }
    }

    private long count() {
        Long n = pg.queryForObject("SELECT n FROM " + counter + " WHERE name = 'messages'", Long.class);
        return n == null ? 0 : n;
    }

    private Set<String> ids() {
        Set<String> s = new HashSet<>();
        consumer.snapshot().forEach(d -> s.add(d.messageId()));
        return s;
    }

    private int rowCount(String dataSource, String messageId) {
        JdbcTemplate j = new JdbcTemplate(app.getBean(dataSource, DataSource.class));
        Integer n = j.queryForObject("SELECT COUNT(*) FROM " + prefix + "outbox WHERE message_id = ?", Integer.class, messageId);
        return n == null ? 0 : n;
    }

    private String tableOf(String messageId) {
        return rowCount("pgDs", messageId) > 0 ? "pg" : "maria";
    }
}
