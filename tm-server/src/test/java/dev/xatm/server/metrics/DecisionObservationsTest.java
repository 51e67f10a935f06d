package dev.xatm.server.metrics;

import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import org.junit.jupiter.api.Test;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;

/** Each decision is one observation carrying its gtrid, outcome and protocol; a no-op registry observes nothing. */
class DecisionObservationsTest {

    @Test
    void aDecisionIsOneObservationWithItsGtrid() {
        TestObservationRegistry registry = TestObservationRegistry.create();
        new DecisionObservations(registry).decided("xatm:abcd-1.1", Outcome.TIMED_OUT, Protocol.THREE_PHASE);
        assertThat(registry).hasSingleObservationThat()
                .hasNameEqualTo("xatm.coordinator.decision")
                .hasLowCardinalityKeyValue("outcome", "timed_out")
                .hasLowCardinalityKeyValue("protocol", "3PC")
                .hasHighCardinalityKeyValue("xatm.xid", "xatm:abcd-1.1")
                .hasBeenStarted().hasBeenStopped();
    }

    @Test
    void aNoopRegistryCostsNothing() {
        new DecisionObservations(ObservationRegistry.NOOP).decided("g", Outcome.COMMITTED, Protocol.TWO_PHASE);
    }
}
