package dev.xatm.coordinator.cluster;

import dev.xatm.core.Ids;
import dev.xatm.core.cluster.Verdict;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** Another deployment's gtrids are refused at the door, before any ownership rule could presume them aborted. */
class ForeignClusterTest {
    private static final ClusterId MINE = new ClusterId("mine1234");

    @Test
    void theCoreAndTheClientReadTheSameClusterFromEveryGtrid() {
        List<String> gtrids = List.of("xatm:mine1234-inst.t.1", "xatm:othr5678-inst.t.1:2.5", "my-app:mine1234-i.t.1",
                "xatm:inst.t.1", "xatm:inst.t.1:2.5", "my-app:inst.t.1", "xatm:ABCD-u", "xatm:abc-u", "tm-1:42", "nocolon",
                "a:b:c-d", "xatm:" + "x".repeat(17) + "-u", "xatm:-u", "xatm:abcd-");
        for (String g : gtrids) {
            assertThat(Optional.ofNullable(Ids.clusterOf(g))).as(g).isEqualTo(ClusterId.of(g).map(ClusterId::value));
        }
    }

    @Test
    void anotherClustersGtridIsRefusedAsNotMineEvenWhenItsOwnerTagLooksLikeOurs() {
        Ownership single = new Ownership(Cluster.SINGLE, MINE);
        Ownership node2 = new Ownership(clusterOf(new GtridOwner(2, 5)), MINE);
        String theirs = "xatm:othr5678-inst.t.1";
        String theirsTaggedLikeUs = "xatm:othr5678-inst.t.1:2.5";

        assertThat(single.foreign(theirs)).isTrue();
        assertThat(single.refusal(theirs)).startsWith("not mine").contains("othr5678").contains("mine1234");
        assertThat(node2.owns(theirsTaggedLikeUs)).as("node 2, epoch 5 of another store is not us").isFalse();
        assertThat(node2.refusal(theirsTaggedLikeUs)).startsWith("not mine");

        assertThat(single.refusal("xatm:mine1234-inst.t.1")).as("ours").isNull();
        assertThat(node2.refusal("xatm:mine1234-inst.t.1:2.5")).as("ours, owned here").isNull();
        assertThat(single.refusal("xatm:inst.t.1")).as("legacy: answered as before").isNull();
        assertThat(new Ownership(Cluster.SINGLE).foreign(theirs)).as("no cluster id known: nothing is foreign").isFalse();
    }

    private static Cluster clusterOf(GtridOwner self) {
        return new Cluster() {
            @Override
            public Optional<GtridOwner> self() {
                return Optional.of(self);
            }

            @Override
            public List<Member> members() {
                return List.of();
            }

            @Override
            public CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids) {
                throw new AssertionError("a foreign gtrid must never reach the store's rule R4");
            }
        };
    }
}
