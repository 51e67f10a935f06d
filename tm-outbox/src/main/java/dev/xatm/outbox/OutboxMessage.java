package dev.xatm.outbox;

import java.util.Map;
import java.util.Objects;

/**
 * One committed outbox row as the relay hands it to the broker.
 *
 * @param seq        the row's position in its outbox table: a key's messages go out in this order
 * @param messageId  unique per message, the broker message id, what consumers deduplicate by
 * @param destination where it goes (see the broker publisher for the syntax)
 * @param key        the ordering key: messages of one key are delivered in seq order
 * @param payload    the body, as written
 * @param headers    the caller's headers
 * @param ageMillis  how long ago the row was written when it was claimed, by the database's clock
 */
public record OutboxMessage(long seq, String messageId, String destination, String key, String payload,
                            Map<String, String> headers, long ageMillis) {
    public OutboxMessage {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(payload, "payload");
        headers = Map.copyOf(headers);
    }
}
