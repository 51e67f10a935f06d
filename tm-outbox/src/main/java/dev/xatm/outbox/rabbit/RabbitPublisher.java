package dev.xatm.outbox.rabbit;

import dev.xatm.outbox.OutboxMessage;
import dev.xatm.outbox.relay.BrokerException;
import dev.xatm.outbox.relay.BrokerPublisher;
import org.springframework.amqp.AmqpException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Publishes a batch to RabbitMQ with publisher confirms, all or nothing: every message of the batch
 * goes out on one channel (so the broker keeps their order per queue), persistent and mandatory,
 * then the call waits for the broker's confirms. A nack, a timeout, a lost connection, or a message
 * returned as unroutable (no queue bound: it would be confirmed and then dropped) fails the whole
 * batch, which the relay then leaves unsent.
 *
 * <p>The connection factory must have {@code SIMPLE} publisher confirms and publisher returns on
 * (the auto-configuration builds its own for that). Thread-safe.
 */
public final class RabbitPublisher implements BrokerPublisher {
    /** The header carrying the ordering key, for consumers that want to check order themselves. */
    public static final String KEY_HEADER = "x-outbox-key";
    /** The row's seq in its outbox table: increasing per key. */
    public static final String SEQ_HEADER = "x-outbox-seq";

    private final RabbitTemplate template;
    private final long confirmTimeoutMillis;
    /** Message ids the broker returned as unroutable; basic.return arrives before the confirm. */
    private final Set<String> returned = ConcurrentHashMap.newKeySet();

    public RabbitPublisher(CachingConnectionFactory connectionFactory, long confirmTimeoutMillis) {
        if (!connectionFactory.isSimplePublisherConfirms()
                || !connectionFactory.isPublisherReturns()) {
            throw new IllegalArgumentException("the outbox relay needs a connection factory with SIMPLE publisher confirms and returns");
        }
        this.template = new RabbitTemplate(connectionFactory);
        this.template.setMandatory(true);
        this.template.setReturnsCallback(r -> returned.add(String.valueOf(r.getMessage().getMessageProperties().getMessageId())));
        this.confirmTimeoutMillis = confirmTimeoutMillis;
    }

    @Override
    public void publish(List<OutboxMessage> batch) throws BrokerException {
        if (batch.isEmpty()) {
            return;
        }
        try {
            template.invoke(ops -> {
                for (OutboxMessage m : batch) {
                    RabbitDestination d = RabbitDestination.parse(m.destination());
                    ops.send(d.exchange(), d.routingKey(), toAmqp(m));
                }
                ops.waitForConfirmsOrDie(confirmTimeoutMillis);
                return null;
            });
        } catch (AmqpException e) {
            forget(batch);
            throw new BrokerException("RabbitMQ did not confirm a batch of " + batch.size() + ": " + e.getMessage(), e);
        }
        Set<String> unroutable = new HashSet<>();
        for (OutboxMessage m : batch) {
            if (returned.remove(m.messageId())) {
                unroutable.add(m.destination());
            }
        }
        if (!unroutable.isEmpty()) {
            throw new BrokerException("RabbitMQ returned messages as unroutable (no queue bound to " + unroutable
                    + "): they stay in the outbox until a queue exists");
        }
    }

    private void forget(List<OutboxMessage> batch) {
        for (OutboxMessage m : batch) {
            returned.remove(m.messageId());
        }
    }

    static Message toAmqp(OutboxMessage m) {
        MessageProperties p = new MessageProperties();
        p.setMessageId(m.messageId());
        p.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
        p.setContentEncoding(StandardCharsets.UTF_8.name());
        p.setContentType(MessageProperties.CONTENT_TYPE_JSON);
        for (Map.Entry<String, String> h : m.headers().entrySet()) {
            if (h.getKey().equalsIgnoreCase("content-type")) {
                p.setContentType(h.getValue());
            } else {
                p.setHeader(h.getKey(), h.getValue());
            }
        }
        p.setHeader(KEY_HEADER, m.key());
        p.setHeader(SEQ_HEADER, m.seq());
        return new Message(m.payload().getBytes(StandardCharsets.UTF_8), p);
    }
}
