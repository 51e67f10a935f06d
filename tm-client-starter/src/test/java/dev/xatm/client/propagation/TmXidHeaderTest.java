package dev.xatm.client.propagation;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TmXidHeaderTest {
    @Test
    void acceptsAGtridOfOurCluster() {
        assertThat(TmXidHeader.problem("xatm:abc.123.1", "xatm")).isNull();
    }

    @Test
    void refusesMalformedValuesWithoutEchoingThemRaw() {
        assertThat(TmXidHeader.problem("has space", "xatm")).startsWith("Malformed TM-XID");
        assertThat(TmXidHeader.problem("", "xatm")).startsWith("Malformed TM-XID");
        assertThat(TmXidHeader.problem("x".repeat(65), "xatm")).startsWith("Malformed TM-XID").doesNotContain("x".repeat(81));
        assertThat(TmXidHeader.problem("a\u0001b", "xatm")).doesNotContain("\u0001");
    }

    @Test
    void refusesAnotherClustersGtrid() {
        assertThat(TmXidHeader.problem("other:abc", "xatm")).contains("another coordinator cluster");
    }
}
