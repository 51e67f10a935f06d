package dev.xatm.server.admin;

import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.server.TmServerApplication;
import dev.xatm.testkit.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * tm-server's admin port serves HTTPS from the same Spring Boot SSL bundle as the gRPC port
 * ({@code server.ssl.bundle} next to {@code tm.server.tls.bundle}), with certificates generated for
 * this run; a client that does not trust the CA gets no answer. (TLS on the gRPC port itself is
 * tested in tm-coordinator.)
 */
@SpringBootTest(classes = {TmServerApplication.class, AdminTlsTest.TestBeans.class}, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.port=0",
        "server.ssl.bundle=tm",
        "tm.server.port=0",
        "tm.server.tls.bundle=tm",
        "tm.server.auth-token=" + AdminTlsTest.TOKEN})
class AdminTlsTest {
    static final String TOKEN = "tls-test-token-0123456789";
    static final Path DIR = tempDir();
    static final TestCertificates CERTS = TestCertificates.generate(DIR.resolve("certs"));
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void bundle(DynamicPropertyRegistry registry) {
        registry.add("tm.server.file.dir", () -> DIR.resolve("tm-data").toString());
        for (String p : CERTS.serverBundle("tm", false)) {
            int eq = p.indexOf('=');
            registry.add(p.substring(0, eq), () -> p.substring(eq + 1));
        }
    }

    @TestConfiguration
    static class TestBeans {
        /** A fatal error fails the test instead of killing the test JVM. */
        @Bean
        @Primary
        CoordinatorLoop.Halt recordingHalt() {
            return HALTS::add;
        }
    }

    @LocalServerPort
    int httpPort;

    @AfterEach
    void noHalt() {
        assertThat(HALTS).as("the server halted itself").isEmpty();
    }

    @Test
    void theAdminPortServesHttpsWithTheSameBundle() throws Exception {
        HttpClient https = HttpClient.newBuilder().sslContext(TestCertificates.trusting(CERTS.caCertificate()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("UP");

        // and a client that does not trust the CA cannot talk to it
        HttpClient stranger = HttpClient.newBuilder().sslContext(TestCertificates.trusting(CERTS.otherCaCertificate()))
                .connectTimeout(Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> stranger.send(HttpRequest.newBuilder(URI.create("https://localhost:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(SSLHandshakeException.class);
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("xatm-tls");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
