package dev.xatm.server.admin;

import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.core.cluster.Verdict;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.server.TmServerApplication;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * tm-server as node 1 (epoch 3) of a two-node cluster whose membership is scripted: the admin API's
 * transaction detail for a gtrid another node owns says which node and where it listens, or that the
 * owner holds no lease, and says nothing of the kind for this node's own gtrids. (The gRPC side of
 * ownership is tested in tm-coordinator.)
 */
@SpringBootTest(classes = {TmServerApplication.class, AdminForeignOwnerTest.TestBeans.class}, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "tm.server.port=0",
        "server.port=0",
        "tm.server.auth-token=" + AdminForeignOwnerTest.TOKEN,
        "tm.server.admin-token=" + AdminForeignOwnerTest.ADMIN_TOKEN})
class AdminForeignOwnerTest {
    static final String TOKEN = "test-token-cluster-0123456789";
    static final String ADMIN_TOKEN = "admin-token-cluster-0123456789";
    static final GtridOwner SELF = new GtridOwner(1, 3);
    private static final AtomicInteger SEQ = new AtomicInteger();
    static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws Exception {
        Path dir = Files.createTempDirectory("tm-cluster-admin-test");
        registry.add("tm.server.file.dir", dir::toString);
    }

    @TestConfiguration
    static class TestBeans {
        /** Node 1 at epoch 3 next to node 2 at epoch 8; the store never knows an outcome. */
        @Bean
        @Primary
        Cluster scriptedCluster() {
            return new Cluster() {
                @Override
                public Optional<GtridOwner> self() {
                    return Optional.of(SELF);
                }

                @Override
                public List<Member> members() {
                    return List.of(new Member(1, 3, "127.0.0.1:7071"), new Member(2, 8, "127.0.0.1:7072"));
                }

                @Override
                public CompletableFuture<Map<String, Verdict>> verdicts(Collection<String> gtrids) {
                    return CompletableFuture.completedFuture(gtrids.stream().distinct()
                            .collect(Collectors.toMap(Function.identity(), g -> Verdict.ASK_OWNER)));
                }
            };
        }

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
        assertThat(HALTS).isEmpty();
    }

    @Test
    void theAdminApiNamesTheOwnerOfAGtridThisServerDoesNotHold() throws Exception {
        String ofNode2 = new GtridOwner(2, 8).tag(unique());
        String ofGoneNode = new GtridOwner(5, 1).tag(unique());
        String own = SELF.tag(unique());

        HttpResponse<String> live = adminDetail(ofNode2);
        assertThat(live.statusCode()).isEqualTo(404);
        assertThat(live.body()).contains("belongs to node 2 (epoch 8)").contains("127.0.0.1:7072");
        assertThat(adminDetail(ofGoneNode).body()).contains("node 5 (epoch 1)").contains("holds no lease");
        assertThat(adminDetail(own).body()).doesNotContain("belongs to");
    }

    private HttpResponse<String> adminDetail(String gtrid) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + httpPort + "/api/v1/transactions/" + gtrid))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String unique() {
        return "xatm:t" + SEQ.incrementAndGet() + "." + Long.toString(System.nanoTime(), 36);
    }
}
