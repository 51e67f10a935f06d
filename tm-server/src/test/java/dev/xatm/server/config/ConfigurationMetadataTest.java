package dev.xatm.server.config;

import dev.xatm.testkit.DocumentedProperties;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Every tm.server.* property the README documents is in the generated configuration metadata (IDE completion). */
class ConfigurationMetadataTest {

    @Test
    void theGeneratedMetadataListsEveryDocumentedProperty() throws Exception {
        Set<String> documented = DocumentedProperties.inReadme(Path.of("README.md"), "tm.server.");
        assertThat(documented).as("tm.server.* properties in tm-server/README.md").hasSizeGreaterThan(20)
                .contains("tm.server.port", "tm.server.in-doubt-after-ms", "tm.server.jdbc.password");
        assertThat(DocumentedProperties.inMetadata(getClass().getClassLoader())).containsAll(documented);
    }
}
