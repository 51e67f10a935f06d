package dev.xatm.outbox.it;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.outbox.Inbox;
import dev.xatm.outbox.OutboxMessage;
import dev.xatm.outbox.rabbit.RabbitPublisher;
import dev.xatm.outbox.relay.RelayHook;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The application of the outbox ITs: a PostgreSQL and a MariaDB data source, the starter in embedded
 * mode, the outbox on both, a relay hook the test can arm to "crash" once between the broker's
 * confirm and the mark, and (with it.consumer=true) a consumer that counts each message once with the
 * inbox on MariaDB and the counter on PostgreSQL, in one global transaction.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class OutboxTestApp {
    @Bean
    DataSource pgDs(Environment env) {
        return pool(env, "pg");
    }

    @Bean
    DataSource mariaDs(Environment env) {
        return pool(env, "maria");
    }

    @Bean
    JdbcTemplate pgJdbc(@Qualifier("pgDs") DataSource ds) {
        return new JdbcTemplate(ds);
    }

    @Bean
    Queue itQueue(Environment env) {
        return new Queue(env.getRequiredProperty("it.queue"), true, false, false);
    }

    @Bean
    CrashOnce crashOnce() {
        return new CrashOnce();
    }

    @Bean
    @ConditionalOnProperty("it.consumer")
    Counting counting(Inbox inbox, @Qualifier("pgJdbc") JdbcTemplate pg, Environment env) {
        return new Counting(inbox, pg, env.getRequiredProperty("it.counter-table"));
    }

    private static DataSource pool(Environment env, String name) {
        HikariDataSource ds = new HikariDataSource();
        ds.setPoolName(name);
        ds.setJdbcUrl(env.getRequiredProperty("it." + name + ".url"));
        ds.setUsername(env.getProperty("it." + name + ".user"));
        ds.setPassword(env.getProperty("it." + name + ".password"));
        ds.setMaximumPoolSize(6);
        return ds;
    }

    /** Throws once after the broker confirmed a batch, when armed: the relay's transaction rolls back as in a crash. */
    static final class CrashOnce implements RelayHook {
        final AtomicInteger armed = new AtomicInteger();
        final AtomicInteger fired = new AtomicInteger();

        @Override
        public void afterPublish(List<OutboxMessage> published) {
            if (armed.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                fired.incrementAndGet();
                throw new IllegalStateException("simulated crash between the broker's confirm and mark-sent");
            }
        }
    }

    /** One delivery as the consumer saw it. */
    record Delivery(String messageId, String key, long seq, boolean first) {}

    /** Counts each message once: the inbox record (MariaDB) and the counter (PostgreSQL) commit together by XA. */
    static class Counting {
        final List<Delivery> deliveries = Collections.synchronizedList(new ArrayList<>());
        private final Inbox inbox;
        private final JdbcTemplate pg;
        private final String table;

        Counting(Inbox inbox, JdbcTemplate pg, String table) {
            this.inbox = inbox.on("mariaDs");
            this.pg = pg;
            this.table = table;
        }

        @RabbitListener(queues = "${it.queue}")
        @GlobalTransactional(name = "count-message")
        public void on(Message m) {
            String id = m.getMessageProperties().getMessageId();
            boolean first = inbox.firstDelivery("it-counter", id);
            if (first) {
                pg.update("UPDATE " + table + " SET n = n + 1 WHERE name = 'messages'");
            }
            deliveries.add(new Delivery(id, m.getMessageProperties().getHeader(RabbitPublisher.KEY_HEADER),
                    ((Number) m.getMessageProperties().getHeader(RabbitPublisher.SEQ_HEADER)).longValue(), first));
        }

        List<Delivery> snapshot() {
            synchronized (deliveries) {
                return List.copyOf(deliveries);
            }
        }
    }
}
