package dev.xatm.client.autoconfigure;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client's timeouts take a Duration ("30s") and a bare number, which keeps meaning milliseconds. */
class TimeoutPropertiesTest {

    private static TmClientProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("tm.client", TmClientProperties.class);
    }

    @Test
    void aBareNumberIsMilliseconds() {
        TmClientProperties p = bind(Map.of("tm.client.call-timeout-ms", "2500", "tm.client.commit-timeout-ms", "90000",
                "tm.client.default-timeout-ms", "3000"));
        assertThat(p.getCallTimeoutMs()).isEqualTo(Duration.ofMillis(2500));
        assertThat(p.getCommitTimeoutMs()).isEqualTo(Duration.ofSeconds(90));
        assertThat(p.getDefaultTimeoutMs()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aDurationWithAUnitWorksToo() {
        TmClientProperties p = bind(Map.of("tm.client.call-timeout-ms", "5s", "tm.client.commit-timeout-ms", "2m",
                "tm.client.default-timeout-ms", "30s"));
        assertThat(p.getCallTimeoutMs()).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.getCommitTimeoutMs()).isEqualTo(Duration.ofMinutes(2));
        assertThat(p.getDefaultTimeoutMs()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theDefaultsAreUnchanged() {
        TmClientProperties p = bind(Map.of());
        assertThat(p.getCallTimeoutMs()).isEqualTo(Duration.ofSeconds(5));
        assertThat(p.getCommitTimeoutMs()).isEqualTo(Duration.ofSeconds(60));
        assertThat(p.getDefaultTimeoutMs()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void zeroIsRefusedNamingTheProperty() {
        TmClientProperties p = bind(Map.of("tm.client.default-timeout-ms", "0s"));
        assertThatThrownBy(p::validate).hasMessageContaining("tm.client.default-timeout-ms");
    }
}
