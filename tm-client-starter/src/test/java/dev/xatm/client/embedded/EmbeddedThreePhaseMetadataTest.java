package dev.xatm.client.embedded;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.coordinator.config.TmServerProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Embedded mode's 3PC timeouts are the coordinator's {@code tm.server.three-phase.*}; tm-coordinator
 * publishes no configuration metadata, so the starter does. Its documented defaults must be the ones
 * the coordinator really binds, or the IDE would tell users a lie.
 */
class EmbeddedThreePhaseMetadataTest {
    @Test
    void theStartersMetadataStatesTheCoordinatorsThreePhaseDefaults() throws Exception {
        TmServerProperties.ThreePhase defaults = new Binder(new MapConfigurationPropertySource(Map.of()))
                .bindOrCreate("tm.server.three-phase", TmServerProperties.ThreePhase.class);
        String metadata;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("generated configuration metadata").isNotNull();
            metadata = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(defaultOf(metadata, "tm.server.three-phase.can-commit-timeout-ms")).isEqualTo(defaults.canCommitTimeoutMs());
        assertThat(defaultOf(metadata, "tm.server.three-phase.pre-commit-timeout-ms")).isEqualTo(defaults.preCommitTimeoutMs());
        assertThat(defaultOf(metadata, "tm.server.three-phase.participant-can-commit-timeout-ms"))
                .isEqualTo(defaults.participantCanCommitTimeoutMs());
        assertThat(defaultOf(metadata, "tm.server.three-phase.participant-pre-commit-timeout-ms"))
                .isEqualTo(defaults.participantPreCommitTimeoutMs());
    }

    private static long defaultOf(String metadata, String name) {
        List<Number> values = JsonPath.read(metadata, "$.properties[?(@.name == '" + name + "')].defaultValue");
        assertThat(values).as("metadata entry of %s", name).hasSize(1);
        return values.get(0).longValue();
    }
}
