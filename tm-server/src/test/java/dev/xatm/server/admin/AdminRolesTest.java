package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.v1.BeginRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may reach what on the admin port: the read token (tm.server.admin-read-token, or an operator
 * with the read role) reads everything and resolves nothing (403); the admin token and resolve
 * operators do both; the client token and unknown tokens get 401. Actuator beyond the health probes
 * and the OpenAPI description need a token too; health shows its details only with one. Refusals are
 * logged at most once a minute per client.
 */
@ExtendWith(OutputCaptureExtension.class)
class AdminRolesTest extends InProcessServerTest {
    private static final List<String> READS = List.of("/api/v1/transactions", "/api/v1/transactions/in-doubt", "/api/v1/cluster",
            "/actuator/prometheus", "/v3/api-docs");

    @Test
    void everyReadNeedsAnAdminTokenAndAcceptsEachRole() throws Exception {
        for (String path : READS) {
            for (String wrong : new String[] {null, CLIENT_TOKEN, "not-a-token-of-this-server-at-all", "Basic"}) {
                HttpResponse<String> r = send("GET", path, null, wrong, null);
                assertThat(r.statusCode()).as(path + " with " + wrong).isEqualTo(401);
                assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
            }
            for (String token : new String[] {READ_TOKEN, JOE_TOKEN, JANE_TOKEN, ADMIN_TOKEN}) {
                assertThat(send("GET", path, null, token, null).statusCode()).as(path).isEqualTo(200);
            }
        }
        // A path that only looks like another one is judged by what the container routes it to.
        assertThat(send("GET", "/actuator/prometheus/", null, null, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/actuator;x=1/prometheus", null, null, null).statusCode()).isIn(400, 401, 404);
        assertThat(send("GET", "/api/v1/../../actuator/prometheus", null, null, null).statusCode()).isIn(400, 401);
    }

    /** A read token on a forced commit, rollback or forget gets 403 and changes nothing; a resolve token gets through. */
    @Test
    void aReadTokenCannotResolve() throws Exception {
        String g = "roles-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
        client.begin(BeginRequest.newBuilder().setGtrid(g).setName("roles").setTimeoutMs(60_000).build());
        for (String action : new String[] {"commit", "rollback", "forget"}) {
            for (String token : new String[] {READ_TOKEN, JOE_TOKEN}) {
                HttpResponse<String> r = send("POST", "/api/v1/transactions/" + g + "/" + action, null, token, null);
                assertThat(r.statusCode()).as(action + ": " + r.body()).isEqualTo(403);
                assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
                assertThat((String) JsonPath.read(r.body(), "$.detail")).contains("may only read").contains("resolve role");
            }
            assertThat(send("POST", "/api/v1/transactions/" + g + "/" + action, null, null, null).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> detail = get("/api/v1/transactions/" + g);
        assertThat((String) JsonPath.read(detail.body(), "$.status")).as("the refused calls changed nothing").isEqualTo("ACTIVE");
        assertThat(detail.body()).doesNotContain("FORCE");

        HttpResponse<String> rollback = send("POST", "/api/v1/transactions/" + g + "/rollback", null, JANE_TOKEN, null);
        assertThat(rollback.statusCode()).as(rollback.body()).isEqualTo(200);
        assertThat((String) JsonPath.read(rollback.body(), "$.operator")).isEqualTo("jane");
    }

    /** Probes get the status with no token; the details (the coordinator's state) only with an admin token. */
    @Test
    void healthShowsDetailsOnlyToAnAdminToken() throws Exception {
        HttpResponse<String> anonymous = send("GET", "/actuator/health", null, null, null);
        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat(anonymous.body()).contains("\"status\"").doesNotContain("components").doesNotContain("details");
        assertThat(send("GET", "/actuator/health", null, CLIENT_TOKEN, null).body()).doesNotContain("components");
        assertThat(send("GET", "/actuator/health/liveness", null, null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/actuator/health/readiness", null, null, null).statusCode()).isEqualTo(200);
        HttpResponse<String> withToken = send("GET", "/actuator/health", null, READ_TOKEN, null);
        assertThat((Boolean) JsonPath.read(withToken.body(), "$.components.coordinator.details.loopAlive")).isTrue();
    }

    /** Twenty refused calls from one address within a minute write at most one WARN line, and never a token. */
    @Test
    void refusalsOfOneClientAreLoggedAtMostOnceAMinute(CapturedOutput output) throws Exception {
        for (int i = 0; i < 20; i++) {
            assertThat(send("GET", "/api/v1/transactions", null, "wrong-token-number-" + i, null).statusCode()).isEqualTo(401);
        }
        assertThat(output.getAll().lines().filter(l -> l.contains("Refused admin API"))).hasSizeLessThanOrEqualTo(1);
        assertThat(output).doesNotContain("wrong-token-number-").doesNotContain(READ_TOKEN);
    }
}
