package dev.xatm.outbox.relay;

import dev.xatm.outbox.OutboxMessage;

import java.util.List;

/**
 * A seam at the one point where a crash produces duplicates: after the broker confirmed a batch,
 * before the rows are marked sent. Tests inject a hook that throws there (the claim's transaction
 * rolls back, as it would if the process died); production uses {@link #NONE}.
 */
@FunctionalInterface
public interface RelayHook {
    RelayHook NONE = published -> {};

    void afterPublish(List<OutboxMessage> published);
}
