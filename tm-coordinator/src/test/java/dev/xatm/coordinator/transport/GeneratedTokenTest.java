package dev.xatm.coordinator.transport;

import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.GetStatusRequest;
import dev.xatm.protocol.v1.TxnStatus;
import dev.xatm.coordinator.CoordinatorTestApplication;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A coordinator started without tm.server.auth-token writes a generated token into its data directory
 * (owner-only, no temporary file left, the path logged but never the token) and accepts that token on
 * the gRPC port. tm-server's admin token, generated the same way, is tested in tm-server.
 */
@ExtendWith(OutputCaptureExtension.class)
class GeneratedTokenTest {

    @Test
    void anUnsetTokenIsGeneratedIntoTheDataDirectory(@TempDir Path dir, CapturedOutput output) throws Exception {
        try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(CoordinatorTestApplication.class)
                .web(WebApplicationType.NONE).run("--tm.server.port=0", "--tm.server.file.dir=" + dir)) {
            Path file = dir.resolve("auth-token");
            assertThat(file).exists();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            String token = Files.readString(file).strip();
            assertThat(token).hasSizeGreaterThanOrEqualTo(dev.xatm.protocol.TokenRule.MIN_LENGTH);
            try (var files = Files.list(dir)) {
                assertThat(files.map(f -> f.getFileName().toString())).as("no temporary token file is left").noneMatch(n -> n.endsWith(".tmp"));
            }

            ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", ctx.getBean(GrpcServer.class).port()).usePlaintext().build();
            try {
                Metadata headers = new Metadata();
                headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
                var stub = CoordinatorGrpc.newBlockingStub(channel)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                        .withDeadlineAfter(10, TimeUnit.SECONDS);
                assertThat(stub.getStatus(GetStatusRequest.newBuilder().setGtrid("g1").build()).getStatus()).isEqualTo(TxnStatus.UNKNOWN);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertThat(output).contains(file.toAbsolutePath().toString()).doesNotContain(token);
        }
    }
}
