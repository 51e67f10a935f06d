package dev.xatm.client.propagation;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The header's form, and which gtrids a service joins at all (its prefix, its cluster). */
class TmXidHeaderTest {
    static final String TAG = "Vd3".repeat(14) + "Q";

    @Test
    void formatAndParseAgree() {
        String value = TmXidHeader.format("xatm:abc.123.1", 1_765_432_109_876L, TAG);

        assertThat(value).isEqualTo("xatm:abc.123.1;exp=1765432109876;tag=" + TAG);
        assertThat(TmXidHeader.parse(value)).isEqualTo(new TmXidHeader.Signed("xatm:abc.123.1", 1_765_432_109_876L, TAG));
        assertThat(TmXidHeader.parse("xatm:abc.123.1")).isNull();
    }

    @Test
    void acceptsAGtridOfOurCluster() {
        assertThat(TmXidHeader.problem("xatm:abc.123.1", "xatm")).isNull();
    }

    @Test
    void refusesMalformedGtridsWithoutEchoingThemRaw() {
        assertThat(TmXidHeader.problem("has space", "xatm")).startsWith("Malformed gtrid");
        assertThat(TmXidHeader.problem("", "xatm")).startsWith("Malformed gtrid");
        assertThat(TmXidHeader.problem("x".repeat(65), "xatm")).startsWith("Malformed gtrid").doesNotContain("x".repeat(81));
        assertThat(TmXidHeader.problem("a\u0001b", "xatm")).doesNotContain("\u0001");
    }

    @Test
    void refusesAnotherClustersGtrid() {
        assertThat(TmXidHeader.problem("other:abc", "xatm")).contains("another coordinator cluster");
    }
}
