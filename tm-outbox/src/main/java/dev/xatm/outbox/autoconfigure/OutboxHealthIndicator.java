package dev.xatm.outbox.autoconfigure;

import dev.xatm.outbox.relay.RelayStatus;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DOWN while any relay's last pass failed (broker down, database down), with the reason and how many
 * passes failed in a row; the backlog per data source either way. DOWN does not mean messages are
 * lost: they wait in the outbox and go once the relay works again.
 */
final class OutboxHealthIndicator implements HealthIndicator {
    private final ObjectProvider<OutboxRelays> relays;

    OutboxHealthIndicator(ObjectProvider<OutboxRelays> relays) {
        this.relays = relays;
    }

    @Override
    public Health health() {
        OutboxRelays r = relays.getIfAvailable();
        if (r == null) {
            return Health.up().withDetail("relay", "off in this instance (tm.outbox.relay.enabled=false)").build();
        }
        boolean up = true;
        Map<String, Object> details = new LinkedHashMap<>();
        for (RelayStatus s : r.statuses()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("pending", s.pending());
            if (!s.healthy()) {
                up = false;
                d.put("failedPasses", s.consecutiveFailures());
                d.put("reason", s.lastError());
            }
            details.put(s.dataSource(), d);
        }
        return (up ? Health.up() : Health.down()).withDetails(details).build();
    }
}
