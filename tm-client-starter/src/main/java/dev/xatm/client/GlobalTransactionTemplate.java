package dev.xatm.client;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.support.GlobalTransactionManager;

import java.util.Objects;

/**
 * The programmatic twin of {@link GlobalTransactional}: the same propagation, timeout, protocol and
 * rollback rules, without Spring types, for code that wants explicit boundaries.
 *
 * <pre>{@code
 * String orderId = template.execute(GlobalTransactionDefinition.DEFAULT.withName("place-order"), status -> {
 *     orders.insert(order);      // shard 0
 *     inventory.decrement(item); // shard 1
 *     return order.id();
 * });
 * }</pre>
 *
 * Checked exceptions thrown by the callback come out unchanged. Thread-safe.
 */
public final class GlobalTransactionTemplate {
    private final GlobalTransactionManager manager;
    private final GlobalTransactionDefinition defaults;

    public GlobalTransactionTemplate(GlobalTransactionManager manager) {
        this(manager, GlobalTransactionDefinition.DEFAULT);
    }

    public GlobalTransactionTemplate(GlobalTransactionManager manager, GlobalTransactionDefinition defaults) {
        this.manager = Objects.requireNonNull(manager, "manager");
        this.defaults = Objects.requireNonNull(defaults, "defaults");
    }

    /** Runs {@code work} with this template's definition. */
    public <T, E extends Throwable> T execute(GlobalTransactionCallback<T, E> work) throws E {
        return manager.execute(defaults, work);
    }

    /** Runs {@code work} with {@code definition}. */
    public <T, E extends Throwable> T execute(GlobalTransactionDefinition definition, GlobalTransactionCallback<T, E> work) throws E {
        return manager.execute(definition, work);
    }

    /** A template with another default definition. */
    public GlobalTransactionTemplate with(GlobalTransactionDefinition definition) {
        return new GlobalTransactionTemplate(manager, definition);
    }

    /**
     * The gtrid of the global transaction bound to the calling thread, or null. For logs and
     * answers; to carry it to another service yourself, use {@link #gtridForPropagation()}.
     */
    public static String currentGtrid() {
        return GlobalTxContext.currentGtrid();
    }

    /**
     * The gtrid, for a call that carries it to another service by other means than the starter's
     * RestClient / RestTemplate / WebClient support (which do this themselves), or null. A
     * transaction whose gtrid never leaves the process commits in one round trip without telling the
     * coordinator about it before; this tells the coordinator now, so that the other service's
     * branches can join. An HTTP service using this starter joins only a signed {@code TM-XID}
     * header, not a bare gtrid: for another HTTP client, take the header value from the starter's
     * {@code TmXidSigner} bean ({@code headerValue(gtrid, deadline)}).
     */
    public static String gtridForPropagation() {
        return GlobalTxContext.gtridForPropagation();
    }
}
