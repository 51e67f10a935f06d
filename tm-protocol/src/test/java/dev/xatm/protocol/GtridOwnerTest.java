package dev.xatm.protocol;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GtridOwnerTest {

    @Test
    void tagRoundTrips() {
        GtridOwner owner = new GtridOwner(2, 41);
        String gtrid = owner.tag("xatm:qteq71by.mwte7qo4.1f");

        assertThat(gtrid).isEqualTo("xatm:qteq71by.mwte7qo4.1f:2.15");
        assertThat(GtridOwner.of(gtrid)).contains(owner);
    }

    @Test
    void largestNodeAndEpochRoundTrip() {
        GtridOwner owner = new GtridOwner(GtridOwner.MAX_NODE_ID, Long.MAX_VALUE);
        assertThat(GtridOwner.of(owner.tag("p:u"))).contains(owner);
    }

    @Test
    void untaggedGtridsHaveNoOwner() {
        assertThat(GtridOwner.of("xatm:qteq71by.mwte7qo4.1")).isEmpty();
        assertThat(GtridOwner.of("tm-1:0000000000000042")).isEmpty();
        assertThat(GtridOwner.of(null)).isEmpty();
    }

    @Test
    void malformedTagsAreNotOwners() {
        assertThat(GtridOwner.of("xatm:u:0.5")).as("node 0").isEmpty();
        assertThat(GtridOwner.of("xatm:u:40000.5")).as("node beyond SMALLINT").isEmpty();
        assertThat(GtridOwner.of("xatm:u:2.0")).as("epoch 0").isEmpty();
        assertThat(GtridOwner.of("xatm:u:2.zzzzzzzzzzzzz")).as("epoch beyond a long").isEmpty();
        assertThat(GtridOwner.of("xatm:u:2.A")).as("upper case is not our base 36").isEmpty();
        assertThat(GtridOwner.of("a:b:c:2.5")).as("three colons").isEmpty();
        assertThat(GtridOwner.of("xatm:2.5")).as("only one colon").isEmpty();
    }

    @Test
    void refusesImpossibleOwners() {
        assertThatThrownBy(() -> new GtridOwner(0, 1)).hasMessageContaining("node id");
        assertThatThrownBy(() -> new GtridOwner(1, 0)).hasMessageContaining("epoch");
    }
}
