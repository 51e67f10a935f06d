package dev.xatm.server.it;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.testkit.ServerProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The admin REST API as an operator uses it: the bearer token read from the server's
 * {@code <file.dir>/admin-token} (generated, since the tests never set one), JSON read with JsonPath.
 * Thread-safe.
 */
final class AdminClient {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ServerProcess server;

    AdminClient(ServerProcess server) {
        this.server = server;
    }

    HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> post(String path, String json) {
        return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** GET /api/v1/transactions/{gtrid}; the body, or null if the server answers 404. */
    String detail(String gtrid) {
        HttpResponse<String> r = get("/api/v1/transactions/" + gtrid);
        if (r.statusCode() == 404) {
            return null;
        }
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + gtrid + ": " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    String status(String gtrid) {
        String body = detail(gtrid);
        return body == null ? "NOT_FOUND" : JsonPath.read(body, "$.status");
    }

    List<String> historyKinds(String gtrid) {
        return JsonPath.read(detail(gtrid), "$.history[*].kind");
    }

    /** The xids of GET /api/v1/transactions/in-doubt. */
    List<String> inDoubt() {
        HttpResponse<String> r = get("/api/v1/transactions/in-doubt?limit=1000");
        if (r.statusCode() != 200) {
            throw new AssertionError("in-doubt: " + r.statusCode() + " " + r.body());
        }
        return JsonPath.read(r.body(), "$[*].transaction.xid");
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return http.send(b.header("Authorization", "Bearer " + server.adminToken()).timeout(Duration.ofSeconds(15)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.httpPort() + path);
    }
}
