package dev.xatm.coordinator.transport;

import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.StatusResponse;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.testkit.Channels;
import dev.xatm.testkit.TestCertificates;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Mutual TLS on the gRPC port ({@code tm.server.tls.client-auth=require}), with certificates
 * generated for this run: a client showing a certificate our CA signed is served; a client that
 * trusts the server but shows no certificate is refused, and so is one whose certificate another
 * authority signed.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "tm.server.port=0",
        "tm.server.bind-address=localhost",
        "tm.server.tls.bundle=tm",
        "tm.server.tls.client-auth=require",
        "tm.server.auth-token=" + GrpcMutualTlsTest.TOKEN})
class GrpcMutualTlsTest {
    static final String TOKEN = "mtls-test-token-0123456789";
    static final Path DIR = tempDir();
    static final TestCertificates CERTS = TestCertificates.generate(DIR.resolve("certs"));
    /** A second set from another CA: its client certificate is well-formed but not signed by ours. */
    static final TestCertificates STRANGER = TestCertificates.generate(DIR.resolve("stranger"));
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void bundle(DynamicPropertyRegistry registry) {
        registry.add("tm.server.file.dir", () -> DIR.resolve("tm-data").toString());
        for (String p : CERTS.serverBundle("tm", true)) {
            int eq = p.indexOf('=');
            registry.add(p.substring(0, eq), () -> p.substring(eq + 1));
        }
    }

    @TestConfiguration
    static class TestBeans {
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
    void aClientWithACertificateOurCaSignedIsServed() throws IOException {
        ManagedChannel channel = channel(trustingOurCa().keyManager(CERTS.clientCertificate().toFile(), CERTS.clientKey().toFile()));
        assertThat(status(channel).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws IOException {
        ManagedChannel channel = channel(trustingOurCa());
        assertRefused(channel);
    }

    @Test
    void aClientWhoseCertificateAnotherCaSignedIsRefused() throws IOException {
        ManagedChannel channel = channel(trustingOurCa().keyManager(STRANGER.clientCertificate().toFile(), STRANGER.clientKey().toFile()));
        assertRefused(channel);
    }

    private static SslContextBuilder trustingOurCa() {
        return GrpcSslContexts.forClient().trustManager(CERTS.caCertificate().toFile());
    }

    private ManagedChannel channel(SslContextBuilder tls) throws IOException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", grpc.port()).sslContext(tls.build()).build();
        channels.add(channel);
        return channel;
    }

    private static void assertRefused(ManagedChannel channel) {
        assertThatThrownBy(() -> status(channel)).isInstanceOf(StatusRuntimeException.class)
                .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    private static StatusResponse status(ManagedChannel channel) {
        return CoordinatorGrpc.newBlockingStub(channel).withInterceptors(Channels.bearer(TOKEN)).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getStatus(GetStatusRequest.newBuilder().setGtrid("g-mtls").build());
    }

    private static Path tempDir() {
        try {
            return java.nio.file.Files.createTempDirectory("xatm-mtls");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
