package dev.xatm.coordinator.transport;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The header check itself; the refusal on the wire is covered by CoordinatorGrpcTest. */
class AuthInterceptorTest {
    private final AuthInterceptor auth = new AuthInterceptor("right-token");

    @Test
    void acceptsOnlyTheExactBearerToken() {
        assertThat(auth.accepts("Bearer right-token")).isTrue();
        assertThat(auth.accepts("bearer right-token")).isTrue(); // the scheme is case-insensitive (RFC 7235)
        assertThat(auth.accepts(null)).isFalse();
        assertThat(auth.accepts("")).isFalse();
        assertThat(auth.accepts("right-token")).isFalse();
        assertThat(auth.accepts("Bearer ")).isFalse();
        assertThat(auth.accepts("Bearer right-token ")).isFalse();
        assertThat(auth.accepts("Bearer right-tokenX")).isFalse();
        assertThat(auth.accepts("Bearer right-toke")).isFalse();
        assertThat(auth.accepts("Basic right-token")).isFalse();
    }
}
