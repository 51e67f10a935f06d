package dev.xatm.client.autoconfigure;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.xatm.client.context.Observed;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The starter's meters carry the xatm. prefix, count outcomes apart from begins and name timers by what they time. */
class MicrometerTxMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MicrometerTxMetrics metrics = new MicrometerTxMetrics(
            new StaticListableBeanFactory(Map.of("registry", registry)).getBeanProvider(MeterRegistry.class),
            new StaticListableBeanFactory(Map.of()).getBeanProvider(io.micrometer.observation.ObservationRegistry.class));

    @Test
    void oneCommittedTransactionWithTwoBranchesShowsUnderTheXatmNames() {
        metrics.begun(CommitProtocol.TWO_PHASE);
        metrics.commandExecuted("PREPARE", "PREPARED", 1_000_000);
        metrics.commandExecuted("PREPARE", "PREPARED", 2_000_000);
        metrics.commandExecuted("COMMIT", "COMMITTED", 1_000_000);
        metrics.commandExecuted("COMMIT_ONE_PHASE", "COMMITTED", 1_000_000);
        metrics.phaseLatency("commit", 5_000_000);
        metrics.ended(GlobalOutcome.COMMITTED, CommitProtocol.TWO_PHASE);

        assertThat(registry.get("xatm.client.transactions.begun").tag("protocol", "2PC").counter().count()).isEqualTo(1);
        assertThat(registry.get("xatm.client.transactions").tag("outcome", "committed").tag("protocol", "2PC").counter().count())
                .isEqualTo(1);
        assertThat(registry.get("xatm.branch.prepare").timer().count()).isEqualTo(2);
        assertThat(registry.get("xatm.branch.commit").timer().count()).isEqualTo(1);
        assertThat(registry.get("xatm.branch.commit-one-phase").timer().count()).isEqualTo(1);
        assertThat(registry.get("xatm.client.commit").timer().count()).isEqualTo(1);
        assertThat(registry.getMeters()).extracting(m -> m.getId().getName()).allMatch(n -> n.startsWith("xatm."));
    }

    @Test
    void theSameEventReusesOneMeter() {
        metrics.ended(GlobalOutcome.ROLLED_BACK, CommitProtocol.THREE_PHASE);
        metrics.ended(GlobalOutcome.ROLLED_BACK, CommitProtocol.THREE_PHASE);
        metrics.decidedOnItsOwn("commit");
        metrics.heuristic("x");
        assertThat(registry.get("xatm.client.transactions").tag("outcome", "rolled_back").counter().count()).isEqualTo(2);
        assertThat(registry.get("xatm.client.participant.decisions").tag("outcome", "commit").counter().count()).isEqualTo(1);
        assertThat(registry.get("xatm.client.heuristic").counter().count()).isEqualTo(1);
        assertThat(registry.getMeters()).extracting(Meter::getId).doesNotHaveDuplicates();
    }

    /** Observations run several times per transaction: the registry is looked up until found, then kept. */
    @Test
    void theObservationRegistryIsLookedUpUntilFoundThenKept() {
        List<String> stopped = new ArrayList<>();
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context.getName());
            }
        });
        CountingProvider provider = new CountingProvider();
        MicrometerTxMetrics m = new MicrometerTxMetrics(
                new StaticListableBeanFactory(Map.of("registry", registry)).getBeanProvider(MeterRegistry.class), provider);

        assertThat(m.observe("transaction", "g:1", CommitProtocol.TWO_PHASE)).as("no registry yet").isSameAs(Observed.NONE);
        assertThat(provider.lookups).isEqualTo(1);

        provider.registry = observations;
        for (String what : new String[] {"transaction", "commit", "PREPARE"}) {
            try (Observed o = what.equals("PREPARE") ? m.observe(what, "g:2") : m.observe(what, "g:2", CommitProtocol.TWO_PHASE)) {
                assertThat(o).isNotSameAs(Observed.NONE);
            }
        }
        assertThat(provider.lookups).as("found at the second lookup, kept since").isEqualTo(2);
        assertThat(stopped).containsExactly("xatm.transaction", "xatm.transaction.commit", "xatm.transaction.branch");
    }

    private static final class CountingProvider implements ObjectProvider<ObservationRegistry> {
        ObservationRegistry registry;
        int lookups;

        @Override
        public ObservationRegistry getObject() {
            throw new UnsupportedOperationException("the metrics ask with getIfAvailable");
        }

        @Override
        public ObservationRegistry getIfAvailable() {
            lookups++;
            return registry;
        }
    }
}
