package dev.xatm.client.it;

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

/** tm-server's admin REST API, read as an operator does: bearer token from {@code <file.dir>/admin-token}. */
final class AdminApi {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ServerProcess server;

    AdminApi(ServerProcess server) {
        this.server = server;
    }

    /** GET /api/v1/transactions/{xid}: the JSON body; fails on anything but 200. */
    String transaction(String gtrid) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + "/api/v1/transactions/" + gtrid))
                .header("Authorization", "Bearer " + server.adminToken()).timeout(Duration.ofSeconds(15)).GET().build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET /api/v1/transactions/" + gtrid + ": " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String field(String json, String path) {
        return String.valueOf((Object) JsonPath.read(json, path));
    }

    static List<String> historyKinds(String json) {
        return JsonPath.read(json, "$.history[*].kind");
    }
}
