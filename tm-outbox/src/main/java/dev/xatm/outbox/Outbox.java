package dev.xatm.outbox;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.outbox.store.HeaderCodec;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;

/**
 * Publishing a message that commits with the data: {@link #publish} writes an outbox row through an
 * enlisted data source inside the caller's global transaction, so the row commits (by XA, with every
 * other branch) or rolls back with it. Nothing reaches the broker before the commit; after it, the
 * relay delivers the row at least once, in seq order per key.
 *
 * <pre>{@code
 * @GlobalTransactional
 * public void place(Order o) {
 *     orders.insert(o);
 *     outbox.on(ordersDataSource).publish("orders.placed", "user-" + o.userId(), json(o), Map.of());
 * }
 * }</pre>
 *
 * Choose the data source that the transaction writes anyway (the order's, here): the row then rides
 * on a branch that exists already, and costs one insert. Thread-safe.
 */
public final class Outbox {
    /** Lengths of the columns, checked before the insert so an error names the argument. */
    static final int DESTINATION_MAX = 255;
    static final int KEY_MAX = 255;

    private final OutboxDataSources sources;
    private final OutboxDataSources.Entry target;

    public Outbox(OutboxDataSources sources) {
        this(sources, sources.first());
    }

    private Outbox(OutboxDataSources sources, OutboxDataSources.Entry target) {
        this.sources = sources;
        this.target = target;
    }

    /** This outbox writing on {@code dataSource} (the bean as injected); it must be in tm.outbox.data-sources. */
    public Outbox on(DataSource dataSource) {
        return new Outbox(sources, sources.of(dataSource));
    }

    /** This outbox writing on the data source bean named {@code beanName}. */
    public Outbox on(String beanName) {
        return new Outbox(sources, sources.named(beanName));
    }

    /** The bean name of the data source this outbox writes on. */
    public String dataSourceName() {
        return target.name();
    }

    public String publish(String destination, String key, String payload) {
        return publish(destination, key, payload, Map.of());
    }

    /**
     * Writes one message for {@code destination} in the current global transaction.
     *
     * @param destination a queue name, or {@code exchange/routing-key}
     * @param key         the ordering key: messages of one key are delivered in the order they were
     *                    written; null means no order is needed (the message id is used)
     * @param payload     the body (UTF-8 text, JSON by default: set a {@code content-type} header otherwise)
     * @param headers     extra message headers
     * @return the message id, which consumers deduplicate by
     * @throws IllegalStateException outside a global transaction, or on a data source the starter does not enlist
     */
    public String publish(String destination, String key, String payload, Map<String, String> headers) {
        if (GlobalTxContext.current() == null) {
            throw new IllegalStateException("Outbox.publish must run inside a global transaction (@GlobalTransactional or"
                    + " GlobalTransactionTemplate): outside one the row would commit on its own, whether or not the data it"
                    + " announces does");
        }
        OutboxDataSources.requireEnlisted(target.name(), target.dataSource());
        requireText("destination", destination, DESTINATION_MAX);
        if (payload == null) {
            throw new IllegalArgumentException("outbox payload must not be null");
        }
        String messageId = UUID.randomUUID().toString();
        String orderingKey = key == null ? messageId : key;
        requireText("key", orderingKey, KEY_MAX);
        String encodedHeaders = HeaderCodec.encode(headers);
        try (Connection c = target.dataSource().getConnection()) { // the branch connection; close() keeps it for the branch
            target.store().insert(c, messageId, destination, orderingKey, payload, encodedHeaders);
        } catch (SQLException e) {
            throw new OutboxException("cannot write the outbox row on data source '" + target.name() + "': " + e.getMessage(), e);
        }
        return messageId;
    }

    private static void requireText(String what, String value, int max) {
        if (value == null || value.isBlank() || value.length() > max) {
            throw new IllegalArgumentException("outbox " + what + " must be 1.." + max + " characters, not "
                    + (value == null ? "null" : "'" + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'"));
        }
    }
}
