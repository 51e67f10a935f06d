package dev.xatm.client.autoconfigure;

import dev.xatm.testkit.DocumentedProperties;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Every tm.client.* and tm.server.* property the starter's README documents is in the generated configuration metadata. */
class ConfigurationMetadataTest {

    @Test
    void theGeneratedMetadataListsEveryDocumentedProperty() throws Exception {
        Set<String> documented = DocumentedProperties.inReadme(Path.of("README.md"), "tm.");
        assertThat(documented).as("properties in tm-client-starter/README.md").hasSizeGreaterThan(20)
                .contains("tm.client.server-address", "tm.client.log-xid", "tm.server.default-protocol");
        assertThat(DocumentedProperties.inMetadata(getClass().getClassLoader())).containsAll(documented);
    }
}
