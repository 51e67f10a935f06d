package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.testkit.FakeAgent;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * tm-server's actuator on the admin port: the health endpoint with the coordinator's component, the
 * liveness and readiness probes, the Prometheus scrape and what stays hidden. (The gRPC transport
 * itself is tested in tm-coordinator.)
 */
class HealthEndpointTest extends InProcessServerTest {

    /**
     * Health answers anyone with the status alone (probes need no token) and shows the coordinator's
     * details only to a caller with an admin token; the Prometheus scrape needs one.
     */
    @Test
    void healthShowsTheCoordinatorComponentToAnAdminToken() throws Exception {
        FakeAgent a = agent(false);
        HttpResponse<String> anonymous = get("/actuator/health", null);
        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(anonymous.body(), "$.status")).isEqualTo("UP");
        assertThat(anonymous.body()).doesNotContain("components").doesNotContain("coordinator").doesNotContain("details");
        for (String probe : new String[] {"/actuator/health/liveness", "/actuator/health/readiness"}) {
            assertThat(get(probe, null).statusCode()).as(probe).isEqualTo(200);
        }
        assertThat(get("/actuator/prometheus", null).statusCode()).isEqualTo(401);
        assertThat(get("/actuator/prometheus", CLIENT_TOKEN).statusCode()).as("the client token opens no admin endpoint").isEqualTo(401);
        assertThat(get("/actuator/prometheus", READ_TOKEN).body()).contains("xatm_");

        HttpResponse<String> response = get("/actuator/health", READ_TOKEN);

        assertThat(response.statusCode()).isEqualTo(200);
        String body = response.body();
        assertThat((String) JsonPath.read(body, "$.status")).isEqualTo("UP");
        assertThat((String) JsonPath.read(body, "$.components.coordinator.status")).isEqualTo("UP");
        assertThat((Boolean) JsonPath.read(body, "$.components.coordinator.details.loopAlive")).isTrue();
        assertThat((Boolean) JsonPath.read(body, "$.components.coordinator.details.logFailed")).isFalse();
        assertThat((Integer) JsonPath.read(body, "$.components.coordinator.details.liveTransactions")).isGreaterThanOrEqualTo(0);
        assertThat((Integer) JsonPath.read(body, "$.components.coordinator.details.connectedAgents")).isGreaterThanOrEqualTo(1);
        assertThat(body).doesNotContain(CLIENT_TOKEN).doesNotContain(a.agentId);

        assertThat(get("/actuator/env", READ_TOKEN).statusCode()).isEqualTo(404);
    }

    /** A GET on the admin port, with {@code token} as bearer unless it is null. */
    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
