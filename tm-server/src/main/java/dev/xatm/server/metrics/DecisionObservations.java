package dev.xatm.server.metrics;

import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.coordinator.engine.DecisionCounts;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;

import java.util.Locale;

/**
 * One Micrometer Observation per decision of this coordinator, {@code xatm.coordinator.decision}, tagged
 * with the outcome and protocol and carrying the gtrid as {@code xatm.xid}: with a tracing bridge it is a
 * span a trace search by gtrid finds next to the application's {@code xatm.transaction}. It marks the
 * moment of the decision (started and stopped at once). Runs on the coordinator's thread; with a no-op
 * registry it costs one check.
 */
final class DecisionObservations implements DecisionCounts.Listener {
    static final String NAME = "xatm.coordinator.decision";

    private final ObservationRegistry registry;

    DecisionObservations(ObservationRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void decided(String gtrid, Outcome outcome, Protocol protocol) {
        if (registry.isNoop()) {
            return;
        }
        Observation.createNotStarted(NAME, registry)
                .contextualName("xatm decision")
                .lowCardinalityKeyValue("outcome", outcome.name().toLowerCase(Locale.ROOT))
                .lowCardinalityKeyValue("protocol", protocol.label)
                .highCardinalityKeyValue("xatm.xid", gtrid)
                .start()
                .stop();
    }
}
