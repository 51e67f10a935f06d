package dev.xatm.client.support;

import dev.xatm.client.TmUsageException;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Minting: untagged without node ids, tagged with the owner the routes pick, and never past 64 characters. */
class GtridMinterTest {
    /** Routes that hand out the given owners in order (none: untagged), and remember the wait asked for. */
    static final class ScriptedOwners implements ServerRoutes {
        final Deque<Optional<GtridOwner>> owners = new ArrayDeque<>();
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
    void withoutNodeIdsTheGtridIsUntaggedAsBefore() {
        GtridMinter minter = new GtridMinter("xatm", "abc12345", new ScriptedOwners(List.of(Optional.empty())), 1_000);
        String gtrid = minter.next();
        assertThat(gtrid).matches("xatm:abc12345\\.[0-9a-z]+\\.1");
        assertThat(GtridOwner.of(gtrid)).isEmpty();
        assertThat(new GtridMinter("xatm", "abc12345").next()).matches("xatm:abc12345\\.[0-9a-z]+\\.1");
    }

    @Test
    void eachGtridNamesTheOwnerTheRoutesPickAndIsAValidXid() {
        ScriptedOwners routes = new ScriptedOwners(List.of(Optional.of(new GtridOwner(1, 5)), Optional.of(new GtridOwner(2, 40))));
        GtridMinter minter = new GtridMinter("xatm", "abc12345", routes, 1_234);
        String first = minter.next();
        String second = minter.next();
        assertThat(GtridOwner.of(first)).contains(new GtridOwner(1, 5));
        assertThat(GtridOwner.of(second)).contains(new GtridOwner(2, 40));
        assertThat(second).endsWith(":2.14"); // epoch 40 in base 36
        assertThat(routes.waitedMillis).isEqualTo(1_234);
        new TmXid(second, "b1"); // the XA codec accepts it
    }

    /**
     * The longest prefix with the largest owner tag passes 64 characters once the counter has two
     * digits: refused, naming the prefix, instead of minting an xid no database takes.
     */
    @Test
    void aGtridLongerThan64CharactersIsRefused() {
        String prefix = "p".repeat(24);
        GtridOwner largest = new GtridOwner(GtridOwner.MAX_NODE_ID, Long.MAX_VALUE);
        List<Optional<GtridOwner>> script = new java.util.ArrayList<>();
        for (int i = 0; i < 36; i++) {
            script.add(Optional.empty()); // counter 1..z (one digit)
        }
        script.add(Optional.of(largest));
        script.add(Optional.of(new GtridOwner(3, 12)));
        GtridMinter minter = new GtridMinter(prefix, "abc12345", new ScriptedOwners(script), 1_000);
        for (int i = 0; i < 36; i++) {
            minter.next();
        }
        assertThatThrownBy(minter::next).isInstanceOf(TmUsageException.class)
                .hasMessageContaining("tm.client.gtrid-prefix").hasMessageContaining("65 characters");
        // the same prefix with an owner as a store hands them out fits
        assertThat(minter.next()).hasSizeLessThanOrEqualTo(64).endsWith(":3.c");
    }
}
