package dev.xatm.sample.events;

import dev.xatm.outbox.Outbox;
import dev.xatm.sample.shard.Shard;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

import java.util.Map;

/**
 * Announces a placed order as an {@code OrderPlaced} message through the transactional outbox, when
 * it is on ({@code tm.outbox.enabled=true}); otherwise does nothing, which is the embedded demo's
 * default (no broker needed). Called inside the order's global transaction: the outbox row goes on
 * the order's shard, the branch the transaction opens anyway, so it commits or rolls back with the
 * order. The key is the user: a user's orders live on one shard, so their events arrive in order.
 */
@Component
public class OrderEvents {
    private final Outbox outbox;
    private final String queue;

    OrderEvents(ObjectProvider<Outbox> outbox, @Value("${sample.order-events.queue}") String queue) {
        this.outbox = outbox.getIfAvailable();
        this.queue = queue;
    }

    public boolean enabled() {
        return outbox != null;
    }

    /** Returns the message id, or null when the outbox is off. */
    public String orderPlaced(Shard orderShard, long orderId, long userId, long productId, int quantity, String xid) {
        if (outbox == null) {
            return null;
        }
        String json = "{\"type\":\"OrderPlaced\",\"orderId\":" + orderId + ",\"userId\":" + userId + ",\"productId\":" + productId
                + ",\"quantity\":" + quantity + ",\"xid\":\"" + xid + "\"}";
        return outbox.on(orderShard.dataSource()).publish(queue, "user-" + userId, json, Map.of("type", "OrderPlaced"));
    }
}
