package dev.xatm.coordinator.config;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * tm.server.bind-address and tm.server.tls.*: plaintext on every interface by default, TLS on as soon
 * as a bundle is named, and settings that cannot work refused at start-up naming the property.
 */
class ListenPropertiesTest {

    private static TmServerProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("tm.server", TmServerProperties.class);
    }

    @Test
    void defaultsArePlaintextOnEveryInterface() {
        TmServerProperties p = bind(Map.of());
        assertThat(p.bindAddress()).isNull();
        assertThat(p.listenAddress().getAddress().isAnyLocalAddress()).isTrue();
        assertThat(p.listenAddress().getPort()).isEqualTo(7071);
        assertThat(p.tls().enabled()).isFalse();
        assertThat(p.tls().clientAuth()).isEqualTo(TmServerProperties.Tls.ClientAuth.NONE);
    }

    @Test
    void aBindAddressIsWhereThePortListens() {
        TmServerProperties p = bind(Map.of("tm.server.bind-address", " 127.0.0.1 ", "tm.server.port", "7171"));
        assertThat(p.listenAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(p.listenAddress().getPort()).isEqualTo(7171);
        assertThat(bind(Map.of("tm.server.bind-address", "[::1]")).listenAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThat(p.toString()).contains("bindAddress=127.0.0.1");
    }

    @Test
    void aBindAddressWithAPortOrThatDoesNotResolveIsRefused() {
        assertThatThrownBy(() -> bind(Map.of("tm.server.bind-address", "127.0.0.1:7071"))).isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("tm.server.bind-address must be an IP address or a host name");
        assertThatThrownBy(() -> bind(Map.of("tm.server.bind-address", "no-such-host.invalid")).listenAddress())
                .hasMessageContaining("tm.server.bind-address 'no-such-host.invalid' does not resolve");
    }

    @Test
    void namingABundleTurnsTlsOn() {
        TmServerProperties p = bind(Map.of("tm.server.tls.bundle", "grpc", "tm.server.tls.client-auth", "require"));
        assertThat(p.tls().enabled()).isTrue();
        assertThat(p.tls().bundle()).isEqualTo("grpc");
        assertThat(p.tls().clientAuth()).isEqualTo(TmServerProperties.Tls.ClientAuth.REQUIRE);
        assertThat(bind(Map.of("tm.server.tls.bundle", "grpc", "tm.server.tls.enabled", "false")).tls().enabled()).isFalse();
    }

    @Test
    void tlsWithoutABundleAndClientAuthWithoutTlsAreRefused() {
        assertThatThrownBy(() -> bind(Map.of("tm.server.tls.enabled", "true"))).isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("tm.server.tls.enabled=true needs tm.server.tls.bundle");
        assertThatThrownBy(() -> bind(Map.of("tm.server.tls.client-auth", "require"))).isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("tm.server.tls.client-auth=require needs TLS");
        assertThatThrownBy(() -> bind(Map.of("tm.server.tls.bundle", "grpc", "tm.server.tls.client-auth", "sometimes")))
                .isInstanceOf(BindException.class);
    }
}
