package dev.xatm.protocol;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterIdTest {

    @Test
    void theClusterIsReadBackFromEveryShapeOfGtrid() {
        ClusterId c = new ClusterId("k3j9x2mq0a");

        assertThat(ClusterId.of(c.head("xatm") + "qteq71by.mwte7qo4.1f")).contains(c);
        assertThat(ClusterId.of(c.head("xatm") + "qteq71by.mwte7qo4.1f:2.5")).as("with an owner tag").contains(c);
        assertThat(ClusterId.of(c.head("my-app.v2") + "qteq71by.mwte7qo4.1")).as("a prefix with '-' and '.'").contains(c);
        assertThat(GtridOwner.of(c.head("xatm") + "qteq71by.mwte7qo4.1f:2.5")).as("the owner tag still parses")
                .contains(new GtridOwner(2, 5));
    }

    @Test
    void legacyGtridsNameNoCluster() {
        assertThat(ClusterId.of("xatm:qteq71by.mwte7qo4.1f")).isEmpty();
        assertThat(ClusterId.of("xatm:qteq71by.mwte7qo4.1f:2.5")).isEmpty();
        assertThat(ClusterId.of("my-app:qteq71by.mwte7qo4.1")).as("'-' in the prefix is not a cluster").isEmpty();
        assertThat(ClusterId.of("no-colon-at-all")).isEmpty();
        assertThat(ClusterId.of(null)).isEmpty();
        assertThat(ClusterId.of("xatm:ABCD-u")).as("upper case is not a cluster id").isEmpty();
        assertThat(ClusterId.of("xatm:abc-u")).as("too short").isEmpty();
    }

    @Test
    void foreignMeansAnotherClusterNamed() {
        ClusterId mine = new ClusterId("aaaa1111");
        ClusterId theirs = new ClusterId("bbbb2222");

        assertThat(mine.isForeign(theirs.head("xatm") + "u.1.1")).isTrue();
        assertThat(mine.isForeign(mine.head("xatm") + "u.1.1")).isFalse();
        assertThat(mine.isForeign("xatm:u.1.1")).as("legacy: not known to be foreign").isFalse();
    }

    @Test
    void generatedIdsAreValidAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            ClusterId c = ClusterId.generate();
            assertThat(ClusterId.isValid(c.value())).isTrue();
            seen.add(c.value());
        }
        assertThat(seen).hasSize(1_000);
    }

    @Test
    void badValuesAreRefusedWithTheRule() {
        assertThatThrownBy(() -> new ClusterId("Prod")).hasMessageContaining("4..16 characters of [a-z0-9]");
        assertThatThrownBy(() -> new ClusterId("a-b-c-d")).hasMessageContaining("[a-z0-9]");
        assertThatThrownBy(() -> new ClusterId("x".repeat(17))).hasMessageContaining("4..16");
        assertThatThrownBy(() -> new ClusterId(null)).hasMessageContaining("null");
    }
}
