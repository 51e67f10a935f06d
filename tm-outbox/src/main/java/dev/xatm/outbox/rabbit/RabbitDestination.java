package dev.xatm.outbox.rabbit;

/**
 * Where a destination string sends a message in RabbitMQ: {@code "exchange/routing-key"} goes to that
 * exchange with that routing key; a name without '/' goes to the queue of that name (the default
 * exchange routes by queue name).
 */
record RabbitDestination(String exchange, String routingKey) {
    static RabbitDestination parse(String destination) {
        int slash = destination.indexOf('/');
        if (slash < 0) {
            return new RabbitDestination("", destination);
        }
        return new RabbitDestination(destination.substring(0, slash), destination.substring(slash + 1));
    }
}
