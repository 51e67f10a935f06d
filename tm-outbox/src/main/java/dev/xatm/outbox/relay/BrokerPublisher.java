package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;

import java.util.List;

/**
 * Hands a batch to the broker. Contract: it returns normally only when the broker confirmed every
 * message of the batch (it holds them durably); otherwise it throws and the relay treats the whole
 * batch as unsent. The messages are published in list order, on one channel, so the broker keeps
 * that order per queue. Implementations must be thread-safe (one relay loop per data source).
 */
public interface BrokerPublisher {
    void publish(List<OutboxMessage> batch) throws BrokerException;
}
