package dev.xatm.server.admin;

import dev.xatm.server.TmServerApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tm-server started without tm.server.admin-token (nor auth-token) writes a generated admin token
 * into its data directory, owner-only and logged by path but never by value, a different secret from
 * the generated client token; the admin API accepts it and refuses the client token. (The client
 * token's own generation is tested in tm-coordinator.)
 */
@ExtendWith(OutputCaptureExtension.class)
class GeneratedAdminTokenTest {

    @Test
    void anUnsetAdminTokenIsGeneratedIntoTheDataDirectoryAndOpensTheAdminApi(@TempDir Path dir, CapturedOutput output) throws Exception {
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(TmServerApplication.class)
                .run("--server.port=0", "--tm.server.port=0", "--tm.server.file.dir=" + dir)) {
            String clientToken = Files.readString(dir.resolve("auth-token")).strip();
            Path adminFile = dir.resolve("admin-token");
            assertThat(adminFile).exists();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(adminFile))).isEqualTo("rw-------");
            String adminToken = Files.readString(adminFile).strip();
            assertThat(adminToken).isNotEqualTo(clientToken);

            int httpPort = ctx.getEnvironment().getProperty("local.server.port", Integer.class);
            HttpClient http = HttpClient.newHttpClient();
            URI list = URI.create("http://localhost:" + httpPort + "/api/v1/transactions");
            assertThat(http.send(HttpRequest.newBuilder(list).header("Authorization", "Bearer " + adminToken).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(list).header("Authorization", "Bearer " + clientToken).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).as("the client token is not an admin token").isEqualTo(401);
            assertThat(output).contains(adminFile.toAbsolutePath().toString()).doesNotContain(adminToken);
        }
    }
}
