package dev.xatm.client.propagation;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import jakarta.servlet.FilterChain;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The incoming side: a request joins the caller's global transaction only with a header whose tag
 * this service's key made, and then only until the caller's deadline; anything else gets a 400
 * Problem Details answer, the handler never runs, and the tag is not echoed.
 */
class TmXidServletFilterTest {
    static final String GTRID = "xatm:k3f9x2aa-7Qm.12.1";
    final Clock clock = Clock.systemUTC();
    final TmXidSigner signer = new TmXidSigner(PropagationKey.choose("a-shared-secret-of-the-deployment", null, null), clock, Duration.ofSeconds(2));
    final TmXidServletFilter filter = new TmXidServletFilter(signer, "xatm");

    /** What the handler saw: the scope bound while it ran, or null when it never ran. */
    final AtomicReference<TxScope> joined = new AtomicReference<>();
    boolean handlerRan;
    final FilterChain handler = (req, res) -> {
        handlerRan = true;
        joined.set(GlobalTxContext.current());
    };

    MockHttpServletResponse send(String header) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/reservations");
        if (header != null) {
            request.addHeader(TmXidHeader.NAME, header);
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request, response, handler);
        assertThat(GlobalTxContext.current()).as("nothing stays bound to the request thread").isNull();
        return response;
    }

    void assertRefused(MockHttpServletResponse r, String detail) throws Exception {
        assertThat(r.getStatus()).isEqualTo(400);
        assertThat(r.getContentType()).startsWith("application/problem+json");
        assertThat(r.getContentAsString())
                .startsWith("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"")
                .contains(detail);
        assertThat(handlerRan).as("the handler ran").isFalse();
    }

    @Test
    void aValidTagJoinsWithTheCallersRemainingDeadline() throws Exception {
        MockHttpServletResponse r = send(signer.headerValue(GTRID, clock.millis() + 30_000));

        assertThat(r.getStatus()).isEqualTo(200);
        assertThat(joined.get().gtrid()).isEqualTo(GTRID);
        assertThat(joined.get().initiator()).isFalse();
        // 30 s to the caller's deadline plus the 2 s skew allowed, less the moments this test took
        assertThat(TimeUnit.NANOSECONDS.toMillis(joined.get().remainingNanos())).isBetween(29_000L, 32_000L);
    }

    @Test
    void withoutHeaderTheRequestRunsOutsideAnyTransaction() throws Exception {
        MockHttpServletResponse r = send(null);

        assertThat(r.getStatus()).isEqualTo(200);
        assertThat(handlerRan).isTrue();
        assertThat(joined.get()).isNull();
    }

    @Test
    void aForgedTagIsRefused() throws Exception {
        String forged = GTRID + ";exp=" + (clock.millis() + 30_000) + ";tag=" + "Q".repeat(43);

        MockHttpServletResponse r = send(forged);

        assertRefused(r, "invalid tag");
        assertThat(r.getContentAsString()).doesNotContain("Q".repeat(43));
    }

    @Test
    void anExpiredHeaderIsRefused() throws Exception {
        String expired = signer.headerValue(GTRID, clock.millis() - 10_000);

        MockHttpServletResponse r = send(expired);

        assertRefused(r, "expired at");
        assertThat(r.getContentAsString()).doesNotContain(expired.substring(expired.indexOf(";tag=") + 5));
    }

    @Test
    void aHeaderWithoutTagIsRefused() throws Exception {
        assertRefused(send(GTRID), "TM-XID header carries no tag");
    }

    @Test
    void aMalformedHeaderIsRefused() throws Exception {
        assertRefused(send("not a gtrid!"), "Malformed TM-XID header");
    }
}
