package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web console is public pages served from the jar, while every API call it makes still needs an
 * admin token; there is no Swagger UI; the read-only cluster view answers for a server alone on its
 * file store. (The console's behaviour in a browser is ConsoleBrowserIT's.)
 */
class ConsoleTest extends InProcessServerTest {

    @Test
    void theConsolesStaticFilesAreServedWithoutATokenAndLockedToTheirOrigin() throws Exception {
        HttpResponse<String> page = send("GET", "/console/", null, null, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>xatm console</title>").contains("console.js");
        assertThat(page.headers().firstValue("Content-Security-Policy"))
                .hasValueSatisfying(p -> assertThat(p).contains("default-src 'self'").contains("frame-ancestors 'none'"));
        for (String file : List.of("/console/console.js", "/console/console.css", "/console/index.html")) {
            assertThat(send("GET", file, null, null, null).statusCode()).as(file).isEqualTo(200);
        }
        HttpResponse<String> bare = send("GET", "/console", null, null, null);
        assertThat(bare.statusCode()).isEqualTo(302);
        assertThat(bare.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).endsWith("/console/"));
    }

    @Test
    void nothingTheConsoleLoadsComesFromAnotherOrigin() throws Exception {
        String page = send("GET", "/console/", null, null, null).body();
        String script = send("GET", "/console/console.js", null, null, null).body();
        String style = send("GET", "/console/console.css", null, null, null).body();
        for (String text : List.of(page, script, style)) {
            assertThat(text).doesNotContain("http://").doesNotContain("https://").doesNotContain("//cdn");
        }
        assertThat(script).contains("sessionStorage").contains("'Authorization': 'Bearer '").doesNotContain("localStorage");
    }

    /** A browser cannot send the bearer token Swagger UI would need to load the description, so there is none. */
    @Test
    void thereIsNoSwaggerUiAndTheApiTheConsoleCallsNeedsTheToken() throws Exception {
        assertThat(send("GET", "/swagger-ui.html", null, null, null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/swagger-ui/index.html", null, null, null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/api/v1/transactions", null, null, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/v1/cluster", null, null, null).statusCode()).isEqualTo(401);
    }

    @Test
    void theClusterViewOfAServerAloneOnItsFileStoreHasNoNodes() throws Exception {
        HttpResponse<String> r = get("/api/v1/cluster");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(r.body(), "$.store")).isEqualTo("file");
        assertThat((List<?>) JsonPath.read(r.body(), "$.members")).isEmpty();
        assertThat(r.body()).doesNotContain("\"self\"");
    }
}
