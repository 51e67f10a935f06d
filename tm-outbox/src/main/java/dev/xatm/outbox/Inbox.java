package dev.xatm.outbox;

import dev.xatm.client.context.GlobalTxContext;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The consumer's half of exactly-once processing: delivery is at least once, so a consumer records
 * each message id it handled in the inbox table, in the same transaction as its effect. A redelivered
 * message finds its id there and is skipped; if the transaction rolls back, so does the record, and
 * the redelivery is handled like the first.
 *
 * <pre>{@code
 * @RabbitListener(queues = "orders.placed")
 * @GlobalTransactional
 * public void on(Message m) {
 *     if (inbox.firstDelivery("order-counter", m.getMessageProperties().getMessageId())) {
 *         counts.increment(...);
 *     }
 * }
 * }</pre>
 *
 * Works inside a global transaction (on an enlisted data source, so the record commits by XA with
 * the effect, wherever that is) or inside a Spring local transaction bound to the same data source.
 * Thread-safe.
 */
public final class Inbox {
    static final int CONSUMER_MAX = 100;
    static final int MESSAGE_ID_MAX = 64;
    private static final String UNIQUE_VIOLATION = "23505";

    private final OutboxDataSources sources;
    private final OutboxDataSources.Entry target;

    public Inbox(OutboxDataSources sources) {
        this(sources, sources.first());
    }

    private Inbox(OutboxDataSources sources, OutboxDataSources.Entry target) {
        this.sources = sources;
        this.target = target;
    }

    /** This inbox on {@code dataSource} (the bean as injected); it must be in tm.outbox.data-sources. */
    public Inbox on(DataSource dataSource) {
        return new Inbox(sources, sources.of(dataSource));
    }

    public Inbox on(String beanName) {
        return new Inbox(sources, sources.named(beanName));
    }

    /**
     * Records that {@code consumer} handles {@code messageId}: true the first time, false when it
     * already did (in a committed transaction, or one still running, which this call waits for).
     *
     * @throws IllegalStateException outside a transaction: the record and the effect must commit together
     */
    public boolean firstDelivery(String consumer, String messageId) {
        check("consumer", consumer, CONSUMER_MAX);
        check("message id", messageId, MESSAGE_ID_MAX);
        DataSource ds = target.dataSource();
        boolean global = GlobalTxContext.current() != null;
        if (global) {
            OutboxDataSources.requireEnlisted(target.name(), ds);
        } else if (!TransactionSynchronizationManager.isActualTransactionActive() || !TransactionSynchronizationManager.hasResource(ds)) {
            throw new IllegalStateException("Inbox.firstDelivery must run inside a global transaction or a Spring transaction on data"
                    + " source '" + target.name() + "': on its own the inbox record would commit without the consumer's effect");
        }
        Connection c = global ? null : DataSourceUtils.getConnection(ds);
        try {
            if (global) {
                try (Connection branch = ds.getConnection()) {
                    return insert(branch, consumer, messageId);
                }
            }
            return insert(c, consumer, messageId);
        } catch (SQLException e) {
            throw new OutboxException("cannot write the inbox record on data source '" + target.name() + "': " + e.getMessage(), e);
        } finally {
            if (c != null) {
                DataSourceUtils.releaseConnection(c, ds);
            }
        }
    }

    private boolean insert(Connection c, String consumer, String messageId) throws SQLException {
        if (target.store().dialect().inboxInsertIgnoresDuplicates()) {
            return target.store().insertInbox(c, consumer, messageId) == 1;
        }
        try {
            return target.store().insertInbox(c, consumer, messageId) == 1;
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    private static void check(String what, String value, int max) {
        if (value == null || value.isBlank() || value.length() > max) {
            throw new IllegalArgumentException("inbox " + what + " must be 1.." + max + " characters, not "
                    + (value == null ? "null" : "'" + value + "'"));
        }
    }
}
