package dev.xatm.client.autoconfigure;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

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
}
