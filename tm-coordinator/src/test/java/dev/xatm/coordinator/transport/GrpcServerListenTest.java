package dev.xatm.coordinator.transport;

import dev.xatm.protocol.v1.CoordinatorGrpc;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.SelfSignedCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the gRPC port listens, and the one WARN tm-server gives when clients beyond this machine can
 * reach it in plaintext: none on loopback, none with TLS, exactly one on every interface without TLS.
 */
@ExtendWith(OutputCaptureExtension.class)
class GrpcServerListenTest {
    private static final String WARNING = "without TLS";

    @Test
    void loopbackWithoutTlsListensThereAndDoesNotWarn(CapturedOutput output) {
        GrpcServer server = start(new InetSocketAddress("127.0.0.1", 0), null);
        try {
            assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
        } finally {
            server.stop();
        }
        assertThat(output.getAll()).doesNotContain(WARNING);
    }

    @Test
    void everyInterfaceWithoutTlsWarnsOnce(CapturedOutput output) {
        GrpcServer server = start(new InetSocketAddress(0), null);
        try {
            assertThat(server.address().getAddress().isAnyLocalAddress()).isTrue();
        } finally {
            server.stop();
        }
        assertThat(output.getAll().split(WARNING, -1)).as("one warning").hasSize(2);
        assertThat(output.getAll()).contains("WARN").contains("tm.server.tls.bundle").contains("tm.server.bind-address=127.0.0.1");
    }

    @Test
    void everyInterfaceWithTlsDoesNotWarn(CapturedOutput output) throws Exception {
        SelfSignedCertificate certificate = new SelfSignedCertificate("localhost");
        SslContext tls = io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.configure(
                SslContextBuilder.forServer(certificate.certificate(), certificate.privateKey())).build();
        GrpcServer server = start(new InetSocketAddress(0), tls);
        server.stop();
        certificate.delete();
        assertThat(output.getAll()).doesNotContain(WARNING);
    }

    @Test
    void theRuleItself() {
        assertThat(GrpcServer.exposedInPlaintext(new InetSocketAddress(0), false)).isTrue();
        assertThat(GrpcServer.exposedInPlaintext(new InetSocketAddress("127.0.0.1", 0), false)).isFalse();
        assertThat(GrpcServer.exposedInPlaintext(new InetSocketAddress("::1", 0), false)).isFalse();
        assertThat(GrpcServer.exposedInPlaintext(new InetSocketAddress(0), true)).isFalse();
    }

    private static GrpcServer start(InetSocketAddress address, SslContext tls) {
        GrpcServer server = new GrpcServer(address, tls, 5_000, 65_536, new CoordinatorGrpc.CoordinatorImplBase() {
        }, new AuthInterceptor("listen-test-token-0123456789"), new AgentRegistry());
        server.start();
        return server;
    }
}
