package dev.xatm.client.agent;

import dev.xatm.client.enlist.BqualMinter;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What XA RECOVER lists that this agent may recover: its cluster, its database; nothing else. */
class RecoveryFilterTest {
    private static final ClusterId MINE = new ClusterId("mine1234");
    private static final String HERE = BqualMinter.databaseTag("orders_a");
    private static final String THERE = BqualMinter.databaseTag("orders_b");
    private final RecoveryFilter filter = new RecoveryFilter("xatm", Optional.of(MINE), false);

    @Test
    void ourClusterOnOurDatabaseIsOurs() {
        assertThat(filter.classify(xid("xatm:mine1234-i.t.1", "b1.i." + HERE), HERE)).isEqualTo(RecoveryFilter.OURS);
        assertThat(filter.classify(xid("xatm:mine1234-i.t.1:2.5", "b1.i." + HERE), HERE)).as("owner-tagged").isEqualTo(RecoveryFilter.OURS);
        assertThat(filter.classify(xid("renamed:mine1234-i.t.1", "b1.i." + HERE), HERE))
                .as("the cluster id decides, not a prefix changed since").isEqualTo(RecoveryFilter.OURS);
        assertThat(filter.classify(xid("xatm:mine1234-i.t.1", "b1.i"), HERE))
                .as("a bqual without a database tag (an older service of ours)").isEqualTo(RecoveryFilter.OURS);
    }

    @Test
    void anotherDeploymentsBranchIsNeverOursWhateverItsPrefix() {
        RecoveryFilter.Verdict v = filter.classify(xid("xatm:othr5678-i.t.1", "b1.i." + HERE), HERE);
        assertThat(v).isEqualTo(new RecoveryFilter.Verdict.OtherCluster(new ClusterId("othr5678")));
    }

    @Test
    void ourClustersBranchOnAnotherDatabaseOfTheServerIsLeftToItsAgents() {
        assertThat(filter.classify(xid("xatm:mine1234-i.t.1", "b1.i." + THERE), HERE)).isEqualTo(RecoveryFilter.OTHER_DATABASE);
    }

    @Test
    void nothingIsOursBeforeAServerNamedOurCluster() {
        RecoveryFilter unknown = new RecoveryFilter("xatm", Optional.empty(), false);
        assertThat(unknown.classify(xid("xatm:mine1234-i.t.1", "b1.i." + HERE), HERE))
                .isInstanceOf(RecoveryFilter.Verdict.OtherCluster.class);
    }

    @Test
    void legacyBranchesAreTakenOnlyWhenAskedAndOnlyWithOurPrefix() {
        TmXid legacy = xid("xatm:i.t.1", "b1.i");
        assertThat(filter.classify(legacy, HERE)).isEqualTo(RecoveryFilter.LEGACY);
        RecoveryFilter upgrading = new RecoveryFilter("xatm", Optional.of(MINE), true);
        assertThat(upgrading.classify(legacy, HERE)).isEqualTo(RecoveryFilter.OURS);
        assertThat(upgrading.classify(xid("other:i.t.1", "b1.i"), HERE)).isEqualTo(RecoveryFilter.FOREIGN);
        assertThat(upgrading.classify(xid("xatm:othr5678-i.t.1", "b1.i"), HERE))
                .as("the upgrade switch never reaches another cluster").isInstanceOf(RecoveryFilter.Verdict.OtherCluster.class);
    }

    private static TmXid xid(String gtrid, String bqual) {
        return new TmXid(gtrid, bqual);
    }
}
