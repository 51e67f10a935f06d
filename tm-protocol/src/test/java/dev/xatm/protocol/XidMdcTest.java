package dev.xatm.protocol;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import static org.assertj.core.api.Assertions.assertThat;

/** A scope puts the gtrid under xatm.xid and puts back exactly what was there before (pooled threads). */
class XidMdcTest {

    @AfterEach
    void clean() {
        MDC.clear();
    }

    @Test
    void putsTheGtridAndRemovesItWhenNothingWasThere() {
        try (XidMdc.Scope s = XidMdc.put("g1")) {
            assertThat(MDC.get("xatm.xid")).isEqualTo("g1");
        }
        assertThat(MDC.get("xatm.xid")).isNull();
    }

    @Test
    void nestedScopesRestoreTheOuterGtrid() {
        try (XidMdc.Scope outer = XidMdc.put("outer")) {
            try (XidMdc.Scope inner = XidMdc.put("inner")) {
                assertThat(MDC.get("xatm.xid")).isEqualTo("inner");
            }
            assertThat(MDC.get("xatm.xid")).isEqualTo("outer");
            try (XidMdc.Scope same = XidMdc.put("outer")) {
                assertThat(MDC.get("xatm.xid")).isEqualTo("outer");
            }
            assertThat(MDC.get("xatm.xid")).isEqualTo("outer");
        }
        assertThat(MDC.get("xatm.xid")).isNull();
    }

    @Test
    void aNullGtridLeavesTheMdcAlone() {
        MDC.put("xatm.xid", "theirs");
        try (XidMdc.Scope s = XidMdc.put(null)) {
            assertThat(MDC.get("xatm.xid")).isEqualTo("theirs");
        }
        assertThat(MDC.get("xatm.xid")).isEqualTo("theirs");
    }
}
