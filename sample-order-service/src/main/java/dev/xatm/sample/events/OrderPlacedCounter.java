package dev.xatm.sample.events;

import dev.xatm.client.GlobalTransactional;
import dev.xatm.outbox.Inbox;
import dev.xatm.sample.shard.Shard;
import dev.xatm.sample.shard.Shards;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.annotation.RabbitListener;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second, small consumer (opt-in: {@code sample.order-events.consumer=true}, with the outbox on):
 * counts every OrderPlaced it hears of into {@code order_placed_seen} on shard 0. Delivery is at least
 * once, so it deduplicates with the inbox on the same shard, in one global transaction with the
 * count: a redelivered message finds its id in the inbox and changes nothing.
 */
@Component
@ConditionalOnProperty(prefix = "sample.order-events", name = "consumer", havingValue = "true")
public class OrderPlacedCounter {
    static final String CONSUMER = "order-placed-counter";
    private static final Pattern ORDER_ID = Pattern.compile("\"orderId\":(\\d+)");
    private static final Pattern USER_ID = Pattern.compile("\"userId\":(\\d+)");

    private final Inbox inbox;
    private final Shard shard0;

    OrderPlacedCounter(Inbox inbox, Shards shards) {
        this.shard0 = shards.forUser(0); // shard 0
        this.inbox = inbox.on(shard0.dataSource());
    }

    @RabbitListener(queues = "${sample.order-events.queue}")
    @GlobalTransactional(name = "count-order-placed", timeoutMs = 10_000)
    public void onOrderPlaced(Message message) {
        if (!inbox.firstDelivery(CONSUMER, message.getMessageProperties().getMessageId())) {
            return; // a redelivery: already counted
        }
        String body = new String(message.getBody(), StandardCharsets.UTF_8);
        long orderId = number(ORDER_ID, body);
        long userId = number(USER_ID, body);
        String table = shard0.table("order_placed_seen");
        // without the inbox a redelivery would land here again and show as deliveries = 2
        if (shard0.jdbc().update("UPDATE " + table + " SET deliveries = deliveries + 1 WHERE order_id = ?", orderId) == 0) {
            shard0.jdbc().update("INSERT INTO " + table + " (order_id, user_id, deliveries) VALUES (?, ?, 1)", orderId, userId);
        }
    }

    private static long number(Pattern p, String body) {
        Matcher m = p.matcher(body);
        if (!m.find()) {
            // not retryable: an exception would requeue it forever
            throw new org.springframework.amqp.AmqpRejectAndDontRequeueException("not an OrderPlaced message: " + body);
        }
        return Long.parseLong(m.group(1));
    }
}
