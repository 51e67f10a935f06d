package dev.xatm.sample.events;

import org.springframework.amqp.core.Queue;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OrderPlaced queue, declared (durable) when the outbox is on: the relay publishes mandatory
 * messages, and a message with no queue to go to stays in the outbox instead of being dropped.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "tm.outbox", name = "enabled", havingValue = "true")
class OrderEventsConfiguration {
    @Bean
    Queue orderPlacedQueue(@Value("${sample.order-events.queue}") String name) {
        return new Queue(name, true, false, false);
    }
}
