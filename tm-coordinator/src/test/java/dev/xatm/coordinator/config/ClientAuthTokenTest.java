package dev.xatm.coordinator.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client token: configured, or generated once into an owner-only file that later starts reuse; never logged. */
@ExtendWith(OutputCaptureExtension.class)
class ClientAuthTokenTest {

    private static TmServerProperties props(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("tm.server", TmServerProperties.class);
    }

    @Test
    void aConfiguredTokenIsUsedAndNoFileIsWritten(@TempDir Path dir) {
        ClientAuthToken token = ClientAuthToken.resolve(props(Map.of("tm.server.auth-token", "configured-token-1", "tm.server.file.dir", dir.toString())));
        assertThat(token.value()).isEqualTo("configured-token-1");
        assertThat(dir.resolve("auth-token")).doesNotExist();
        assertThat(token.toString()).doesNotContain("configured-token-1");
    }

    @Test
    void anUnsetTokenIsGeneratedOnceIntoAnOwnerOnlyFile(@TempDir Path dir, CapturedOutput output) throws Exception {
        Path data = dir.resolve("data"); // not there yet: created
        TmServerProperties p = props(Map.of("tm.server.file.dir", data.toString()));

        ClientAuthToken first = ClientAuthToken.resolve(p);
        Path file = data.resolve("auth-token");
        assertThat(file).exists();
        assertThat(Files.readString(file).strip()).isEqualTo(first.value());
        assertThat(first.value()).hasSizeGreaterThanOrEqualTo(40);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        ClientAuthToken second = ClientAuthToken.resolve(p);
        assertThat(second.value()).isEqualTo(first.value());

        assertThat(output).contains(file.toAbsolutePath().toString());
        assertThat(output).doesNotContain(first.value());
    }

    @Test
    void aCorruptTokenFileStopsTheStartWithoutShowingItsContent(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("auth-token"), "two words\n");
        assertThatThrownBy(() -> ClientAuthToken.resolve(props(Map.of("tm.server.file.dir", dir.toString()))))
                .hasMessageContaining("does not hold a valid token").hasMessageNotContaining("two words");
    }

    /**
     * The token file is written whole or not at all: a failure after the content was written but
     * before it took the file's name leaves neither a file (which the next start would refuse if it
     * were empty or torn) nor a temporary file behind. The next attempt writes a complete, owner-only file.
     */
    @Test
    void aFailedWriteLeavesNoTokenFileAndNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("auth-token");
        assertThatThrownBy(() -> ClientAuthToken.writeAtomically(file, "generated-token-0123456789", () -> {
            throw new java.io.IOException("disk full (simulated)");
        })).hasMessageContaining("disk full");
        assertThat(file).doesNotExist();
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }

        assertThat(ClientAuthToken.writeAtomically(file, "generated-token-0123456789", () -> { })).isTrue();
        assertThat(file).hasContent("generated-token-0123456789");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
    }

    /** A token file another process wrote first is kept, not replaced. */
    @Test
    void anExistingTokenFileIsNotReplaced(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("auth-token");
        Files.writeString(file, "theirs-0123456789abcdef\n");
        assertThat(ClientAuthToken.writeAtomically(file, "mine-0123456789abcdef", () -> { })).isFalse();
        assertThat(file).hasContent("theirs-0123456789abcdef");
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(file);
        }
    }

    @Test
    void aTokenFileWithATooShortTokenStopsTheStart(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("auth-token"), "short-token\n");
        assertThatThrownBy(() -> ClientAuthToken.resolve(props(Map.of("tm.server.file.dir", dir.toString()))))
                .hasMessageContaining("does not hold a valid token (16..1024").hasMessageNotContaining("short-token");
    }
}
