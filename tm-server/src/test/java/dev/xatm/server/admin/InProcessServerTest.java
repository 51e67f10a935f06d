package dev.xatm.server.admin;

import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.testkit.FakeAgent;
import dev.xatm.coordinator.transport.GrpcServer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole server in-process for the admin-side tests (random ports, the real file log in a
 * temporary directory): a gRPC client in the TM role, fake agents, and an HTTP client for the admin
 * API. The subclasses share one Spring context (same settings), so the server starts once.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "server.port=0",
        "tm.server.port=0",
        "tm.server.auth-token=" + InProcessServerTest.CLIENT_TOKEN,
        "tm.server.admin-token=" + InProcessServerTest.ADMIN_TOKEN,
        "tm.server.admin-read-token=" + InProcessServerTest.READ_TOKEN,
        "tm.server.operators.jane.token=" + InProcessServerTest.JANE_TOKEN,
        "tm.server.operators.jane.role=resolve",
        "tm.server.operators.joe.token=" + InProcessServerTest.JOE_TOKEN,
        "tm.server.tick-ms=20",
        "tm.server.retry-initial-ms=100",
        "tm.server.retry-max-ms=400",
        "tm.server.in-doubt-after-ms=60000",
        "tm.server.three-phase.can-commit-timeout-ms=30000",
        "tm.server.three-phase.pre-commit-timeout-ms=30000",
        "tm.server.three-phase.participant-can-commit-timeout-ms=45000",
        "tm.server.three-phase.participant-pre-commit-timeout-ms=40000"})
abstract class InProcessServerTest {
    static final String CLIENT_TOKEN = "client-token-0123456789abcdef";
    static final String ADMIN_TOKEN = "admin-token-0123456789abcdef";
    /** tm.server.admin-read-token: operator "admin-read", read role. */
    static final String READ_TOKEN = "read-token-0123456789abcdef";
    /** tm.server.operators.jane: resolve role. */
    static final String JANE_TOKEN = "jane-token-0123456789abcdef";
    /** tm.server.operators.joe: no role given, so read. */
    static final String JOE_TOKEN = "joe-token-0123456789abcdef";
    static final AtomicInteger SEQ = new AtomicInteger();
    private static final Path DATA_DIR = tempDir();
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) {
        registry.add("tm.server.file.dir", DATA_DIR::toString);
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
    @LocalServerPort
    int httpPort;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    ManagedChannel channel;
    CoordinatorGrpc.CoordinatorBlockingStub client;
    CoordinatorGrpc.CoordinatorStub async;
    final List<FakeAgent> agents = new ArrayList<>();

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("localhost", grpc.port()).usePlaintext().build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + CLIENT_TOKEN);
        client = CoordinatorGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(15, TimeUnit.SECONDS);
        async = CoordinatorGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        agents.forEach(FakeAgent::close);
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        assertThat(HALTS).as("the server halted itself").isEmpty();
    }

    void register(String g, String bqual, String resource, FakeAgent agent) {
        client.registerBranch(RegisterBranchRequest.newBuilder().setGtrid(g).setBqual(bqual).setResourceId(resource)
                .setAgentId(agent.agentId).setAgentSecret(agent.instanceSecret).build());
    }

    FakeAgent agent(boolean autoAnswer) throws InterruptedException {
        FakeAgent a = new FakeAgent("agent-" + SEQ.incrementAndGet(), autoAnswer).connect(async);
        agents.add(a);
        return a;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send("GET", path, null, ADMIN_TOKEN, null);
    }

    HttpResponse<String> send(String method, String path, String body, String token, String contentType)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(15))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    URI uri(String path) {
        return URI.create("http://localhost:" + httpPort + path);
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("tm-admin-test");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
