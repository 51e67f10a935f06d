package dev.xatm.client.support;

import dev.xatm.client.TmSystemException;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Minting: every gtrid names the deployment's cluster id the servers announced; untagged without node
 * ids, tagged with the owner the routes pick; never past 64 characters.
 */
class GtridMinterTest {
    static final ClusterId CLUSTER = new ClusterId("k3j9x2mq0a");

    /** Routes that hand out the given owners in order (none: untagged), and remember the wait asked for. */
    static final class ScriptedOwners implements ServerRoutes {
        final Deque<Optional<GtridOwner>> owners = new ArrayDeque<>();
        Optional<ClusterId> cluster = Optional.of(CLUSTER);
        RuntimeException clusterUnknown;
        long waitedMillis = -1;

        ScriptedOwners(List<Optional<GtridOwner>> owners) {
            this.owners.addAll(owners);
        }

        @Override
        public Optional<GtridOwner> ownerForNewGtrid(long waitMillis) {
            waitedMillis = waitMillis;
            return owners.removeFirst();
        }

        @Override
        public Optional<ClusterId> clusterForNewGtrid(long waitMillis) {
            waitedMillis = waitMillis;
            if (clusterUnknown != null) {
                throw clusterUnknown;
            }
            return cluster;
        }

        @Override
        public Optional<CoordinatorChannel> channelFor(String gtrid) {
            return Optional.empty();
        }

        @Override
        public String describeRoute(String gtrid) {
            return "nowhere";
        }

        @Override
        public boolean awaitServing(String gtrid, long timeoutMillis) {
            return false;
        }
    }

    @Test
    void everyGtridNamesTheClusterTheServersAnnounced() {
        GtridMinter minter = new GtridMinter("xatm", "abc12345", new ScriptedOwners(List.of(Optional.empty())), 1_000, true);
        String gtrid = minter.next();

        assertThat(gtrid).matches("xatm:k3j9x2mq0a-abc12345\\.[0-9a-z]+\\.1");
        assertThat(ClusterId.of(gtrid)).contains(CLUSTER);
        assertThat(GtridOwner.of(gtrid)).as("no node ids: untagged").isEmpty();
        new TmXid(gtrid, "b1.abc12345.0zz9"); // the XA codec accepts it
    }

    @Test
    void withoutOwnerTagsTheClusterIsTakenWithoutWaiting() {
        // an application's own CoordinatorAccess: the agent's servers may not be the ones it talks to
        ScriptedOwners routes = new ScriptedOwners(List.of());
        GtridMinter minter = new GtridMinter("xatm", "abc12345", routes, 700, false);

        assertThat(ClusterId.of(minter.next())).contains(CLUSTER);
        assertThat(routes.waitedMillis).isZero();
    }

    @Test
    void serversThatPredateClusterIdsGetGtridsAsBefore() {
        ScriptedOwners routes = new ScriptedOwners(List.of(Optional.empty()));
        routes.cluster = Optional.empty();

        String gtrid = new GtridMinter("xatm", "abc12345", routes, 1_000, true).next();

        assertThat(gtrid).matches("xatm:abc12345\\.[0-9a-z]+\\.1");
        assertThat(ClusterId.of(gtrid)).isEmpty();
    }

    @Test
    void noGtridIsMintedBeforeAServerHasNamedTheCluster() {
        ScriptedOwners routes = new ScriptedOwners(List.of(Optional.empty()));
        routes.clusterUnknown = new TmSystemException("no tm-server reached");

        assertThatThrownBy(new GtridMinter("xatm", "abc12345", routes, 1_000, true)::next)
                .isInstanceOf(TmSystemException.class).hasMessageContaining("no tm-server reached");
    }

    @Test
    void eachGtridNamesTheOwnerTheRoutesPickAndIsAValidXid() {
        ScriptedOwners routes = new ScriptedOwners(List.of(Optional.of(new GtridOwner(1, 5)), Optional.of(new GtridOwner(2, 40))));
        GtridMinter minter = new GtridMinter("xatm", "abc12345", routes, 1_234, true);
        String first = minter.next();
        String second = minter.next();
        assertThat(GtridOwner.of(first)).contains(new GtridOwner(1, 5));
        assertThat(GtridOwner.of(second)).contains(new GtridOwner(2, 40));
        assertThat(ClusterId.of(second)).contains(CLUSTER);
        assertThat(second).endsWith(":2.14"); // epoch 40 in base 36
        assertThat(routes.waitedMillis).isEqualTo(1_234);
        new TmXid(second, "b1"); // the XA codec accepts it
    }

    /**
     * The longest prefix with a 10-character cluster id and the largest owner tag passes 64 characters:
     * refused, naming the prefix, instead of minting an xid no database takes.
     */
    @Test
    void aGtridLongerThan64CharactersIsRefused() {
        String prefix = "p".repeat(24);
        GtridOwner largest = new GtridOwner(GtridOwner.MAX_NODE_ID, Long.MAX_VALUE);
        GtridMinter minter = new GtridMinter(prefix, "abc12345",
                new ScriptedOwners(List.of(Optional.of(largest), Optional.of(new GtridOwner(3, 12)))), 1_000, true);

        assertThatThrownBy(minter::next).isInstanceOf(TmUsageException.class)
                .hasMessageContaining("tm.client.gtrid-prefix").hasMessageContaining("75 characters");
        // the same prefix with an owner as a store hands them out fits
        assertThat(minter.next()).hasSizeLessThanOrEqualTo(64).endsWith(":3.c");
    }

    @Test
    void aFixedClusterForTests() {
        assertThat(new GtridMinter("t", CLUSTER, "tag").next()).startsWith("t:k3j9x2mq0a-tag.");
        assertThat(new GtridMinter("t", null, "tag").next()).startsWith("t:tag.");
    }
}
