package dev.xatm.client.autoconfigure;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The starter offers a log pattern with the gtrid, never overriding the application's own, and can be told not to. */
class XidLogPatternTest {

    private static StandardEnvironment environment(Map<String, Object> applicationProperties) {
        StandardEnvironment env = new StandardEnvironment();
        env.getPropertySources().addFirst(new MapPropertySource("application", applicationProperties));
        new XidLogPattern().postProcessEnvironment(env, new SpringApplication());
        return env;
    }

    @Test
    void anApplicationWithoutAPatternGetsTheGtridInItsLevelPattern() {
        assertThat(environment(Map.of()).getProperty("logging.pattern.level")).isEqualTo("%5p %X{xatm.xid}");
    }

    @Test
    void anApplicationsOwnPatternWins() {
        assertThat(environment(Map.of("logging.pattern.level", "%-5level [%X{traceId}]")).getProperty("logging.pattern.level"))
                .isEqualTo("%-5level [%X{traceId}]");
    }

    @Test
    void theOfferCanBeTurnedOff() {
        assertThat(environment(Map.of("tm.client.log-xid", "false")).getProperty("logging.pattern.level")).isNull();
    }
}
