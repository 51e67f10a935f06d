package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The requests the admin API fuzz test (AdminApiFuzzTest) found answered with 500, pinned as plain
 * cases: /error asked for directly, and a Content-Type that is a wildcard, unparseable or names an
 * unknown charset, on the API and on an Actuator endpoint. Each is a 4xx Problem Details document.
 */
class FuzzFindingsTest extends InProcessServerTest {

    @Test
    void errorAskedForDirectlyIsNotFound() throws Exception {
        assertProblem(get("/error"), 404);
        assertProblem(send("PUT", "/error", "{}", ADMIN_TOKEN, "application/json"), 404);
    }

    @Test
    void aContentTypeThatIsNoConcreteMediaTypeIs415OnEveryPath() throws Exception {
        for (String type : new String[] {"*/*", "application/*", "json", ";", "application/json; charset=bogus-42"}) {
            assertProblem(send("GET", "/actuator/health", null, null, type), 415);
            assertProblem(send("GET", "/api/v1/transactions", null, ADMIN_TOKEN, type), 415);
            assertProblem(send("POST", "/api/v1/transactions/fuzz-finding-1/rollback", "{}", ADMIN_TOKEN, type), 415);
        }
        assertThat(send("GET", "/actuator/health", null, null, "application/json; charset=utf-8").statusCode()).isEqualTo(200);
    }

    private static void assertProblem(HttpResponse<String> r, int status) {
        assertThat(r.statusCode()).as(r.request().method() + " " + r.uri() + " " + r.request().headers().firstValue("Content-Type")
                + ": " + r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith(Problems.MEDIA_TYPE));
        assertThat((Integer) JsonPath.read(r.body(), "$.status")).isEqualTo(status);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("bogus");
    }
}
