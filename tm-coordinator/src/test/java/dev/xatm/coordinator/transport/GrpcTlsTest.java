package dev.xatm.coordinator.transport;

import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.CoordinatorTestApplication;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.testkit.Channels;
import dev.xatm.testkit.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS on the gRPC port from a Spring Boot SSL bundle ({@code tm.server.tls.bundle}), with
 * certificates generated for this run: a client trusting our CA is served, a plaintext client and a
 * client that does not know the CA are refused. The port listens on loopback only
 * ({@code tm.server.bind-address}). tm-server's admin port on the same bundle is tested in tm-server.
 */
@SpringBootTest(classes = {CoordinatorTestApplication.class, GrpcTlsTest.TestBeans.class},
        webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "tm.server.port=0",
        "tm.server.bind-address=127.0.0.1",
        "tm.server.tls.bundle=tm",
        "tm.server.auth-token=" + GrpcTlsTest.TOKEN})
class GrpcTlsTest {
    static final String TOKEN = "tls-test-token-0123456789";
    static final Path DIR = tempDir();
    static final TestCertificates CERTS = TestCertificates.generate(DIR.resolve("certs"));
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void bundle(DynamicPropertyRegistry registry) {
        registry.add("tm.server.file.dir", () -> DIR.resolve("tm-data").toString());
        add(registry, CERTS.serverBundle("tm", false));
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

    @Autowired
    GrpcServer grpc;

    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void close() {
        channels.forEach(Channels::shutdown);
        assertThat(HALTS).as("the server halted itself").isEmpty();
    }

    @Test
    void aClientTrustingOurCaIsServedOverTls() throws IOException {
        ManagedChannel channel = channel(NettyChannelBuilder.forAddress("localhost", grpc.port())
                .sslContext(GrpcSslContexts.forClient().trustManager(CERTS.caCertificate().toFile()).build()));
        assertThat(status(channel).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
    }

    /** The server certificate names 127.0.0.1 too, so dialling the IP passes the host name check. */
    @Test
    void theHostNameCheckPassesForTheIpAddressTheCertificateNames() throws IOException {
        ManagedChannel channel = channel(NettyChannelBuilder.forAddress("127.0.0.1", grpc.port())
                .sslContext(GrpcSslContexts.forClient().trustManager(CERTS.caCertificate().toFile()).build()));
        assertThat(status(channel).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void aPlaintextClientIsRefused() {
        ManagedChannel channel = channel(NettyChannelBuilder.forAddress("localhost", grpc.port()).usePlaintext());
        assertThatThrownBy(() -> status(channel)).isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void aClientThatDoesNotTrustOurCaIsRefused() throws IOException {
        ManagedChannel channel = channel(NettyChannelBuilder.forAddress("localhost", grpc.port())
                .sslContext(GrpcSslContexts.forClient().trustManager(CERTS.otherCaCertificate().toFile()).build()));
        assertThatThrownBy(() -> status(channel)).isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
                .rootCause().isInstanceOf(java.security.cert.CertPathBuilderException.class);
    }

    /** tm.server.bind-address=127.0.0.1: the port is not reachable on this host's other addresses. */
    @Test
    void theGrpcPortListensOnTheBindAddressOnly() {
        assertThat(grpc.address().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    }

    private ManagedChannel channel(NettyChannelBuilder builder) {
        ManagedChannel channel = builder.build();
        channels.add(channel);
        return channel;
    }

    private static dev.xatm.protocol.v1.StatusResponse status(ManagedChannel channel) {
        return CoordinatorGrpc.newBlockingStub(channel).withInterceptors(Channels.bearer(TOKEN)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getStatus(GetStatusRequest.newBuilder().setGtrid("g-tls").build());
    }

    static void add(DynamicPropertyRegistry registry, List<String> properties) {
        for (String p : properties) {
            int eq = p.indexOf('=');
            registry.add(p.substring(0, eq), () -> p.substring(eq + 1));
        }
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("xatm-tls");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
