package dev.xatm.server.admin;

import dev.xatm.core.cluster.Verdict;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.coordinator.cluster.Cluster;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster view reports what the {@link Cluster} last read: this server, and every server holding
 * a live lease ordered by node id, each with the tag its gtrids end with; the file store has no nodes,
 * and a JDBC server that has not claimed its lease yet says so rather than pretending to be alone.
 */
class ClusterControllerTest {

    @Test
    void aSharedStoreListsEveryLeaseHolderByNodeWithTheTagItsGtridsCarry() {
        Cluster cluster = stub(Optional.of(new GtridOwner(2, 40)),
                List.of(new Cluster.Member(3, 7, "10.0.0.3:7071"), new Cluster.Member(2, 40, "10.0.0.2:7071")));
        ClusterController.ClusterView view = new ClusterController(cluster, new AdminSettings(60_000, 2)).cluster();

        assertThat(view.store()).isEqualTo("jdbc");
        assertThat(view.self()).isEqualTo(new ClusterController.Member(2, 40, ":2.14", null, true));
        assertThat(view.members()).containsExactly(
                new ClusterController.Member(2, 40, ":2.14", "10.0.0.2:7071", true),
                new ClusterController.Member(3, 7, ":3.7", "10.0.0.3:7071", false));
        assertThat(GtridOwner.of("xatm:abc" + view.members().get(1).ownerTag())).contains(new GtridOwner(3, 7));
    }

    @Test
    void anOlderIncarnationOfThisNodeIsNotThisServer() {
        Cluster cluster = stub(Optional.of(new GtridOwner(2, 41)), List.of(new Cluster.Member(2, 40, "10.0.0.2:7071")));
        assertThat(new ClusterController(cluster, new AdminSettings(60_000, 2)).cluster().members())
                .singleElement().satisfies(m -> assertThat(m.self()).isFalse());
    }

    @Test
    void theFileStoreHasNoNodesAndAnUnclaimedLeaseNoSelf() {
        ClusterController.ClusterView file = new ClusterController(Cluster.SINGLE, new AdminSettings(60_000)).cluster();
        assertThat(file).isEqualTo(new ClusterController.ClusterView("file", null, List.of()));

        ClusterController.ClusterView unclaimed = new ClusterController(stub(Optional.empty(), List.of()), new AdminSettings(60_000, 5)).cluster();
        assertThat(unclaimed).isEqualTo(new ClusterController.ClusterView("jdbc", null, List.of()));
    }

    private static Cluster stub(Optional<GtridOwner> self, List<Cluster.Member> members) {
        return new Cluster() {
            @Override
            public Optional<GtridOwner> self() {
                return self;
            }

            @Override
            public List<Member> members() {
                return members;
            }

            @Override
            public CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids) {
                throw new UnsupportedOperationException("not part of the view");
            }
        };
    }
}
