package dev.xatm.sample.order;

import dev.xatm.sample.SampleOrderServiceApplication;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP contract of the service (status codes, JSON shapes, validation) on two in-memory H2
 * shards, with the xatm starter switched off: no coordinator needed, and @GlobalTransactional does
 * nothing. Atomicity across the shards is what OrderServiceEndToEndIT checks, with real processes.
 */
@SpringBootTest(classes = SampleOrderServiceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "tm.client.enabled=false",
        "sample.shard0.url=jdbc:h2:mem:api-shard0;DB_CLOSE_DELAY=-1",
        "sample.shard1.url=jdbc:h2:mem:api-shard1;DB_CLOSE_DELAY=-1",
        "sample.products=10",
        "sample.initial-stock=20"})
class OrderApiTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @Test
    void placeAnOrderThenReadItAndTheStock() throws Exception {
        HttpResponse<String> r = post("{\"userId\": 3, \"productId\": 4, \"quantity\": 5}");
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode placed = json.readTree(r.body());
        long id = placed.get("orderId").asLong();
        assertThat(placed.get("orderShard").asInt()).isEqualTo(1);
        assertThat(placed.get("inventoryShard").asInt()).isEqualTo(0);
        assertThat(placed.has("xid")).isTrue();
        assertThat(Math.floorMod(id, 2)).as("the id names the order's shard").isEqualTo(1);
        assertThat(r.headers().firstValue("Location")).hasValue("/orders/" + id);

        JsonNode order = json.readTree(get("/orders/" + id).body());
        assertThat(order.get("userId").asLong()).isEqualTo(3);
        assertThat(order.get("productId").asLong()).isEqualTo(4);
        assertThat(order.get("quantity").asInt()).isEqualTo(5);
        assertThat(order.get("shard").asInt()).isEqualTo(1);
        assertThat(order.get("createdAt").asString()).isNotBlank();

        JsonNode stock = json.readTree(get("/inventory/4").body());
        assertThat(stock.get("stock").asInt()).isEqualTo(15);
        assertThat(stock.get("shard").asInt()).isEqualTo(0);
    }

    @Test
    void notEnoughStockIs409WithTheNumbers() throws Exception {
        HttpResponse<String> r = post("{\"userId\": 1, \"productId\": 7, \"quantity\": 21}");
        assertThat(r.statusCode()).isEqualTo(409);
        JsonNode body = json.readTree(r.body());
        assertThat(body.get("error").asString()).isEqualTo("out_of_stock");
        assertThat(body.get("requested").asInt()).isEqualTo(21);
        assertThat(body.get("available").asInt()).isEqualTo(20);
        assertThat(body.get("productId").asLong()).isEqualTo(7);
        assertThat(body.has("orderId")).isTrue();
    }

    @Test
    void unknownProductIs404() throws Exception {
        HttpResponse<String> r = post("{\"userId\": 1, \"productId\": 11, \"quantity\": 1}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json.readTree(r.body()).get("error").asString()).isEqualTo("unknown_product");
    }

    @Test
    void invalidBodiesAre400Json() throws Exception {
        for (String body : new String[] {
                "", "not json", "{\"userId\": 1, \"productId\": 2}", "{\"userId\": -1, \"productId\": 2, \"quantity\": 1}",
                "{\"userId\": 1, \"productId\": 0, \"quantity\": 1}", "{\"userId\": 1, \"productId\": 2, \"quantity\": 0}",
                "{\"userId\": 1, \"productId\": 2, \"quantity\": 1000001}", "{\"userId\": 1, \"productId\": 2, \"quantity\": 1.5}",
                "{\"userId\": \"1\", \"productId\": 2, \"quantity\": 1}", "[1, 2, 3]"}) {
            HttpResponse<String> r = post(body);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type")).as(body).hasValueSatisfying(t -> assertThat(t).contains("json"));
            JsonNode error = json.readTree(r.body());
            assertThat(error.get("error").asString()).as(body).isEqualTo("invalid_request");
            assertThat(error.get("message").asString()).as(body).isNotBlank();
        }
    }

    /** A number too large for its field names the field and the number, not just "the body must be JSON". */
    @Test
    void outOfRangeNumbersNameTheField() throws Exception {
        assertInvalid(post("{\"userId\":1,\"productId\":2,\"quantity\":1099511627776}"),
                "quantity 1099511627776 is out of range: quantity must be between 1 and 1000000");
        assertInvalid(post("{\"userId\":99999999999999999999,\"productId\":2,\"quantity\":1}"),
                "userId 99999999999999999999 is out of range: userId must be a whole number >= 0");
    }

    @Test
    void notANumberNamesTheField() throws Exception {
        assertInvalid(post("{\"userId\":1,\"productId\":\"two\",\"quantity\":1}"), "productId must be a whole number (a JSON number");
        assertInvalid(post("{\"userId\":1,\"productId\":2,\"quantity\":1.5}"), "quantity must be a whole number, was 1.5");
        assertInvalid(post("{\"userId\":1,\"productId\":2,\"quantity\":true}"), "quantity must be a whole number");
    }

    /** A POST without Content-Type: application/json (what curl -d sends by default) gets 415 in the service's own shape. */
    @Test
    void aBodyThatIsNotDeclaredJsonIs415Json() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("{\"userId\": 1, \"productId\": 2, \"quantity\": 3}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(415);
        assertJson(r);
        assertThat(r.headers().firstValue("Accept")).hasValueSatisfying(t -> assertThat(t).contains("application/json"));
        JsonNode error = json.readTree(r.body());
        assertThat(error.get("error").asString()).isEqualTo("unsupported_media_type");
        assertThat(error.get("message").asString())
                .isEqualTo("POST /orders takes Content-Type: application/json, got application/x-www-form-urlencoded"
                        + " (curl: -H 'Content-Type: application/json')");
        assertThat(error.size()).as("only error and message").isEqualTo(2);
    }

    @Test
    void aMethodAPathDoesNotTakeIs405Json() throws Exception {
        HttpResponse<String> r = get("/orders");
        assertThat(r.statusCode()).isEqualTo(405);
        assertJson(r);
        assertThat(r.headers().firstValue("Allow")).hasValue("POST");
        JsonNode error = json.readTree(r.body());
        assertThat(error.get("error").asString()).isEqualTo("method_not_allowed");
        assertThat(error.get("message").asString()).isEqualTo("GET is not allowed on /orders; allowed: POST");
        assertThat(error.size()).as("only error and message").isEqualTo(2);

        HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/inventory/2")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(delete.statusCode()).isEqualTo(405);
        assertJson(delete);
        assertThat(json.readTree(delete.body()).get("message").asString()).isEqualTo("DELETE is not allowed on /inventory/2; allowed: GET");
    }

    private void assertInvalid(HttpResponse<String> r, String messageStart) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertJson(r);
        JsonNode error = json.readTree(r.body());
        assertThat(error.get("error").asString()).isEqualTo("invalid_request");
        assertThat(error.get("message").asString()).startsWith(messageStart);
    }

    private static void assertJson(HttpResponse<String> r) {
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    }

    @Test
    void readsOfWhatDoesNotExist() throws Exception {
        assertThat(get("/orders/999999").statusCode()).isEqualTo(404);
        assertThat(json.readTree(get("/orders/999999").body()).get("error").asString()).isEqualTo("not_found");
        assertThat(get("/inventory/11").statusCode()).isEqualTo(404);
        assertThat(get("/orders/abc").statusCode()).isEqualTo(400);
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
