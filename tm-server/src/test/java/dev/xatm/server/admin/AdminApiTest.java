package dev.xatm.server.admin;

import com.jayway.jsonpath.JsonPath;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.BeginRequest;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.CommitRequest;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.coordinator.log.OperatorAction;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.testkit.FakeAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin REST API on the whole server in-process (random ports, the real file log): bearer
 * authentication, RFC 9457 Problem Details (with the earlier {error, message} members) and a 4xx for every kind of bad input (never a 500 or a
 * stack trace), list/detail/in-doubt views fed by real gRPC traffic, forced commit/rollback refused
 * with 409 where they would contradict a decision, heuristic outcomes listed until forgotten, and
 * the OpenAPI description.
 */
@ExtendWith(OutputCaptureExtension.class)
class AdminApiTest extends InProcessServerTest {
    @org.springframework.beans.factory.annotation.Autowired
    TxnLog txnLog;
    private dev.xatm.coordinator.log.OperatorJournal journal;

    @org.junit.jupiter.api.BeforeEach
    void journal() {
        journal = txnLog.operatorJournal();
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void everyApiCallNeedsTheAdminTokenAndNoTokenIsEverLogged(CapturedOutput output) throws Exception {
        for (String token : new String[] {null, "wrong-token-value-xyz", CLIENT_TOKEN}) {
            HttpResponse<String> r = send("GET", "/api/v1/transactions", null, token, null);
            assertError(r, 401, "unauthorized");
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"xatm-admin\"");
        }
        assertError(send("POST", "/api/v1/transactions/g1/rollback", null, null, null), 401, "unauthorized");
        assertThat(get("/api/v1/transactions").statusCode()).isEqualTo(200);
        // (whether the refusals made a line depends on the other tests' refusals this minute: RefusalLog)
        assertThat(output).doesNotContain(ADMIN_TOKEN).doesNotContain("wrong-token-value-xyz").doesNotContain(CLIENT_TOKEN);
    }

    // ---------------------------------------------------------------- bad input: 4xx + {error, message}

    @Test
    void badQueryParametersAre400() throws Exception {
        assertError(get("/api/v1/transactions?status=DONE"), 400, "invalid_argument", "status must be one of");
        assertError(get("/api/v1/transactions?status=UNKNOWN"), 400, "invalid_argument", "status must be one of");
        assertError(get("/api/v1/transactions?limit=0"), 400, "invalid_argument", "limit must be");
        assertError(get("/api/v1/transactions?limit=1001"), 400, "invalid_argument", "limit must be");
        assertError(get("/api/v1/transactions?limit=ten"), 400, "invalid_argument", "limit must be");
        assertError(get("/api/v1/transactions?limit=99999999999999999999"), 400, "invalid_argument", "limit must be");
        assertError(get("/api/v1/transactions/in-doubt?limit=-1"), 400, "invalid_argument", "limit must be");
        assertThat(get("/api/v1/transactions?status=finished_committed&limit=5").statusCode()).isEqualTo(200);
    }

    @Test
    void unknownXidIs404AndAMalformedOne400() throws Exception {
        assertError(get("/api/v1/transactions/" + gtrid()), 404, "not_found", "presumed rolled back");
        assertError(get("/api/v1/transactions/" + "x".repeat(65)), 400, "invalid_argument", "xid must be");
        assertError(get("/api/v1/transactions/a%20b"), 400, "invalid_argument", "xid must be");
        assertError(post("/api/v1/transactions/" + "y".repeat(2000) + "/commit", null), 400, "invalid_argument", "xid must be");
        for (String action : new String[] {"commit", "rollback", "forget"}) {
            assertError(post("/api/v1/transactions/" + gtrid() + "/" + action, null), 404, "not_found", "not known");
        }
    }

    @Test
    void oversizedPathsAndBodiesAre4xxWithoutAStackTrace() throws Exception {
        // Over Tomcat's request-line limit: refused by the container before Spring, still JSON.
        HttpResponse<String> hugePath = get("/api/v1/transactions/" + "z".repeat(20_000));
        assertError(hugePath, 400, "invalid_argument");

        String g = begin();
        assertError(send("POST", "/api/v1/transactions/" + g + "/rollback", "{\"reason\":\"" + "a".repeat(5000) + "\"}", ADMIN_TOKEN,
                "application/json"), 413, "payload_too_large", "at most 4096 bytes");
        assertError(post("/api/v1/transactions/" + g + "/rollback", "{\"reason\": 42}"), 400, "invalid_argument", "reason must be");
        assertError(post("/api/v1/transactions/" + g + "/rollback", "{\"reason\": \"tab\\there\"}"), 400, "invalid_argument", "reason must be");
        assertError(post("/api/v1/transactions/" + g + "/rollback", "{oops"), 400, "invalid_argument", "JSON object");
        assertError(post("/api/v1/transactions/" + g + "/rollback", "[1,2]"), 400, "invalid_argument", "JSON object");
        assertError(post("/api/v1/transactions/" + g + "/rollback", "{\"reason\":\"jo\",\"force\":true}"), 400, "invalid_argument", "unknown field");
        assertError(send("POST", "/api/v1/transactions/" + g + "/rollback", "reason=jo", ADMIN_TOKEN, "application/x-www-form-urlencoded"),
                415, "unsupported_media_type", "application/json");
        assertThat(status(g)).as("nothing was forced by the refused requests").isEqualTo("ACTIVE");
    }

    @Test
    void unknownPathsAndWrongMethodsAreJsonToo() throws Exception {
        assertError(get("/api/v1/nothing-here"), 404, "not_found");
        assertError(get("/nothing-here"), 404, "not_found");
        assertError(send("DELETE", "/api/v1/transactions/" + gtrid(), null, ADMIN_TOKEN, null), 405, "method_not_allowed");
        assertError(send("GET", "/api/v1/transactions/" + gtrid() + "/commit", null, ADMIN_TOKEN, null), 405, "method_not_allowed");
        HttpResponse<String> html = http.send(HttpRequest.newBuilder(uri("/api/v1/transactions/" + gtrid()))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Accept", "text/html").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(html.statusCode()).isBetween(400, 499);
        assertThat(html.body()).startsWith("{").doesNotContain("Exception");
    }

    @Test
    void bodiesAndHeadersOfEveryShapeAre4xxAndChangeNothing() throws Exception {
        String g = begin();
        String rollback = "/api/v1/transactions/" + g + "/rollback";
        for (String body : new String[] {"null", "[]", "[{\"operator\":\"jo\"}]", "\"jo\"", "42", "true", "{\"operator\":null,", "\u0000"}) {
            assertError(post(rollback, body), 400, "invalid_argument", "JSON object");
        }
        for (String type : new String[] {"garbage", "application/", "application/json;;;=", "/", "*/*", "text/plain"}) {
            assertError(send("POST", rollback, "{\"reason\":\"jo\"}", ADMIN_TOKEN, type), 415, "unsupported_media_type");
        }
        assertError(post(rollback, "{\"reason\":\"" + "r".repeat(501) + "\"}"), 400, "invalid_argument", "reason must be");
        assertError(post(rollback, "{\"reason\":[\"x\"]}"), 400, "invalid_argument", "reason must be");
        assertError(http.send(HttpRequest.newBuilder(uri(rollback)).header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("X-Operator", " ").POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()),
                400, "invalid_argument", "X-Operator");
        HttpResponse<String> oddGet = http.send(HttpRequest.newBuilder(uri("/api/v1/transactions/" + g))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "garbage;;").header("Accept", "nonsense")
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(oddGet.statusCode()).as(oddGet.body()).isBetween(200, 499);
        assertThat(status(g)).as("nothing was forced by the refused requests").isEqualTo("ACTIVE");
    }

    /**
     * Who forced an outcome is the operator the token names (jane's token: "jane"; the admin token:
     * "admin"), recorded with the token's role; a name in the body or in X-Operator is refused (400)
     * and changes nothing, since anybody could write any name there.
     */
    @Test
    void anOperatorActionIsRecordedWithTheTokensOperatorAndWhy() throws Exception {
        FakeAgent a1 = agent(true);
        String g = begin();
        register(g, "b1", "db-1", a1);
        assertError(send("POST", "/api/v1/transactions/" + g + "/commit", "{\"reason\":\"ticket 41\"}", JANE_TOKEN, "application/json"),
                409, "conflict");
        assertError(send("POST", "/api/v1/transactions/" + g + "/rollback", "{\"operator\":\"joe\",\"reason\":\"x\"}", JANE_TOKEN,
                "application/json"), 400, "invalid_argument", "\"operator\" is not accepted", "'jane'");
        assertError(http.send(HttpRequest.newBuilder(uri("/api/v1/transactions/" + g + "/rollback"))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("X-Operator", "joe")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()),
                400, "invalid_argument", "X-Operator is not accepted", "'admin'");
        assertThat(status(g)).as("the refused requests changed nothing").isEqualTo("ACTIVE");
        HttpResponse<String> r = post("/api/v1/transactions/" + g + "/rollback", "{\"reason\":\"ticket 42: the order was cancelled\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat((String) JsonPath.read(r.body(), "$.operator")).isEqualTo("admin");

        String history = get("/api/v1/transactions/" + g).body();
        List<String> refused = JsonPath.read(history, "$.history[?(@.kind == 'FORCE_REFUSED')].detail");
        assertThat(refused).singleElement().satisfies(d -> assertThat(d).contains("jane (resolve token)").contains("reason: ticket 41"));
        List<String> forced = JsonPath.read(history, "$.history[?(@.kind == 'FORCED_ROLLBACK')].detail");
        assertThat(forced).singleElement().satisfies(d -> assertThat(d).contains("admin (resolve token)")
                .contains("reason: ticket 42: the order was cancelled"));
        assertThat(history).doesNotContain("joe");
        assertThat(journal.of(g)).extracting(OperatorAction::operator).containsExactly("jane", "admin");
        List<String> kinds = JsonPath.read(history, "$.history[*].kind");
        assertThat(kinds).containsSubsequence("BEGUN", "FORCE_REFUSED", "FORCED_ROLLBACK");
        assertThat(journal.of(g)).extracting(OperatorAction::action).containsExactly("refused-commit", "rollback");
    }

    // ---------------------------------------------------------------- views

    @Test
    void listAndDetailShowBranchesTimestampsAndHistoryNewestFirst() throws Exception {
        FakeAgent a1 = agent(true);
        FakeAgent a2 = agent(true);
        String first = begin();
        String g = begin();
        register(g, "b1", "db-1", a1);
        register(g, "b2", "db-2", a2);
        client.commit(CommitRequest.newBuilder().setGtrid(g).setWaitForCompletion(true).build());

        HttpResponse<String> list = get("/api/v1/transactions?limit=1000");
        assertThat(list.statusCode()).isEqualTo(200);
        List<String> xids = JsonPath.read(list.body(), "$[*].xid");
        assertThat(xids.indexOf(g)).isLessThan(xids.indexOf(first));
        List<String> committed = JsonPath.read(get("/api/v1/transactions?status=FINISHED_COMMITTED&limit=1000").body(), "$[*].xid");
        assertThat(committed).contains(g).doesNotContain(first);
        List<String> one = JsonPath.read(get("/api/v1/transactions?limit=1").body(), "$[*].xid");
        assertThat(one).hasSize(1);

        String body = get("/api/v1/transactions/" + g).body();
        assertThat((String) JsonPath.read(body, "$.status")).isEqualTo("FINISHED_COMMITTED");
        assertThat((String) JsonPath.read(body, "$.protocol")).isEqualTo("2PC");
        assertThat((String) JsonPath.read(body, "$.outcome")).isEqualTo("COMMITTED");
        assertThat((String) JsonPath.read(body, "$.begunAt")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat((String) JsonPath.read(body, "$.finishedAt")).isNotNull();
        assertThat((String) JsonPath.read(body, "$.branches[1].resource")).isEqualTo("db-2");
        assertThat((String) JsonPath.read(body, "$.branches[1].agent")).isEqualTo(a2.agentId);
        assertThat((String) JsonPath.read(body, "$.branches[1].status")).isEqualTo("COMMITTED");
        assertThat((String) JsonPath.read(body, "$.branches[1].vote")).isEqualTo("YES");
        List<String> kinds = JsonPath.read(body, "$.history[*].kind");
        assertThat(kinds).containsSubsequence("BEGUN", "BRANCH_REGISTERED", "COMMIT_REQUESTED", "PREPARE_SENT", "VOTE",
                "DECISION_LOGGED", "DECISION_DURABLE", "ACK", "FINISHED");
    }

    @Test
    void theListPagesWithACursorAndATotalAndStaysABareArrayWithoutOne() throws Exception {
        String name = "paged-" + SEQ.incrementAndGet();
        List<String> begun = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String g = gtrid();
            client.begin(BeginRequest.newBuilder().setGtrid(g).setName(name).setTimeoutMs(60_000).build());
            begun.add(0, g); // newest first
        }
        HttpResponse<String> bare = get("/api/v1/transactions?name=" + name + "&limit=2");
        assertThat(bare.body()).startsWith("[");
        assertThat(JsonPath.<List<String>>read(bare.body(), "$[*].xid")).containsExactlyElementsOf(begun.subList(0, 2));
        assertThat(bare.headers().firstValue("X-Total-Count")).hasValue("5");

        List<String> walked = new java.util.ArrayList<>();
        String cursor = "";
        for (int page = 0; page < 3; page++) {
            String body = get("/api/v1/transactions?name=" + name + "&limit=2&cursor=" + cursor).body();
            assertThat((Integer) JsonPath.read(body, "$.total")).isEqualTo(5);
            walked.addAll(JsonPath.read(body, "$.items[*].xid"));
            cursor = JsonPath.read(body, "$.nextCursor");
            if (page < 2) {
                assertThat(cursor).isNotBlank();
            }
        }
        assertThat(cursor).as("the last page has no next").isNull();
        assertThat(walked).containsExactlyElementsOf(begun);

        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions?name=" + name + "&protocol=3pc").body(), "$[*]")).isEmpty();
        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions?name=" + name + "&protocol=2PC&status=ACTIVE").body(),
                "$[*].xid")).hasSize(5);
        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions?name=" + name + "&minAgeMs=3600000").body(), "$[*]")).isEmpty();
        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions?name=" + name + "&minAgeMs=0").body(), "$[*]")).hasSize(5);
    }

    @Test
    void badListParametersAre400() throws Exception {
        assertError(get("/api/v1/transactions?protocol=4PC"), 400, "invalid_argument", "protocol must be 2PC or 3PC");
        assertError(get("/api/v1/transactions?minAgeMs=-1"), 400, "invalid_argument", "minAgeMs must be");
        assertError(get("/api/v1/transactions?minAgeMs=soon"), 400, "invalid_argument", "minAgeMs must be");
        assertError(get("/api/v1/transactions?name=" + "n".repeat(129)), 400, "invalid_argument", "name must be");
        for (String cursor : new String[] {"garbage", "djEuLTE", "%00", "x".repeat(65), java.util.Base64.getUrlEncoder().encodeToString("v2.1".getBytes())}) {
            assertError(get("/api/v1/transactions?cursor=" + cursor), 400, "invalid_argument", "cursor must be");
        }
    }

    // ---------------------------------------------------------------- forced resolution

    @Test
    void aCommitStuckOnAGoneAgentIsInDoubtCannotBeRolledBackAndIsForcedThroughItsAgent() throws Exception {
        FakeAgent a1 = agent(true);
        FakeAgent a2 = agent(false);
        String g = begin();
        register(g, "b1", "db-1", a1);
        register(g, "b2", "db-2", a2);
        var commit = async(g);
        PhaseCommand prepare = a2.next().getCommand();
        assertThat(prepare.getAction()).isEqualTo(PhaseAction.PREPARE);
        a2.vote(g, "b2", BranchVote.YES);
        assertThat(commit.get(10, TimeUnit.SECONDS)).isNotNull();
        assertThat(a2.next().getCommand().getAction()).isEqualTo(PhaseAction.COMMIT);
        a2.close(); // gone with the COMMIT unanswered

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String inDoubt = get("/api/v1/transactions/in-doubt").body();
            assertThat(JsonPath.<List<String>>read(inDoubt, "$[*].transaction.xid")).contains(g);
            assertThat(JsonPath.<List<String>>read(inDoubt, "$[?(@.transaction.xid == '" + g + "')].reasons[*].kind")).contains("AGENT_GONE");
        });
        HttpResponse<String> rollback = send("POST", "/api/v1/transactions/" + g + "/rollback", null, JANE_TOKEN, null);
        assertError(rollback, 409, "conflict", "COMMIT decision");

        HttpResponse<String> forced = send("POST", "/api/v1/transactions/" + g + "/commit", null, JANE_TOKEN, null);
        assertThat(forced.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(forced.body(), "$.status")).isEqualTo("COMMITTING");
        assertThat((String) JsonPath.read(forced.body(), "$.operator")).isEqualTo("jane");
        assertThat((String) JsonPath.read(forced.body(), "$.message")).contains("b2").contains("gone");

        FakeAgent back = new FakeAgent(a2.agentId, true).connect(async);
        agents.add(back);
        await().atMost(Duration.ofSeconds(10)).until(() -> status(g).equals("FINISHED_COMMITTED"));
        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions/in-doubt").body(), "$[*].transaction.xid")).doesNotContain(g);
        String history = get("/api/v1/transactions/" + g).body();
        assertThat(JsonPath.<List<String>>read(history, "$.history[*].kind")).contains("AGENT_GONE", "FORCE_REFUSED", "FORCED_COMMIT", "AGENT_BACK");
        assertThat(JsonPath.<List<String>>read(history, "$.history[?(@.kind == 'FORCED_COMMIT')].detail")).anySatisfy(d -> assertThat(d).contains("jane"));
    }

    @Test
    void anUndecidedTransactionCanBeRolledBackButNotCommitted() throws Exception {
        FakeAgent a1 = agent(true);
        String g = begin();
        register(g, "b1", "db-1", a1);
        assertError(post("/api/v1/transactions/" + g + "/commit", null), 409, "conflict", "presumed abort");
        HttpResponse<String> r = post("/api/v1/transactions/" + g + "/rollback", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(r.body(), "$.operator")).isEqualTo("admin");
        await().atMost(Duration.ofSeconds(10)).until(() -> status(g).equals("FINISHED_ROLLED_BACK"));
        assertThat(a1.commands).extracting(PhaseCommand::getAction).containsExactly(PhaseAction.ROLLBACK);
        assertThat(post("/api/v1/transactions/" + g + "/rollback", null).statusCode()).as("idempotent").isEqualTo(200);
    }

    @Test
    void aHeuristicOutcomeIsListedUntilForgotten() throws Exception {
        FakeAgent a1 = agent(true);
        FakeAgent a2 = agent(false);
        String g = begin();
        register(g, "b1", "db-1", a1);
        register(g, "b2", "db-2", a2);
        var commit = async(g);
        a2.next();
        a2.vote(g, "b2", BranchVote.YES);
        commit.get(10, TimeUnit.SECONDS);
        a2.next();
        a2.ack(g, "b2", PhaseAction.COMMIT, AckResult.HEURISTIC_ROLLBACK);
        await().atMost(Duration.ofSeconds(10)).until(() -> status(g).equals("FINISHED_HEURISTIC"));

        String inDoubt = get("/api/v1/transactions/in-doubt").body();
        assertThat(JsonPath.<List<String>>read(inDoubt, "$[?(@.transaction.xid == '" + g + "')].reasons[*].kind")).containsExactly("HEURISTIC");
        assertThat((String) JsonPath.read(get("/api/v1/transactions/" + g).body(), "$.branches[1].heuristic")).isEqualTo("HEURISTIC_ROLLBACK");
        assertError(post("/api/v1/transactions/" + g + "/rollback", null), 409, "conflict", "reconcile");

        HttpResponse<String> forgot = send("POST", "/api/v1/transactions/" + g + "/forget", "{\"reason\":\"checked by hand\"}", JANE_TOKEN,
                "application/json");
        assertThat(forgot.statusCode()).isEqualTo(200);
        assertThat(JsonPath.<List<String>>read(get("/api/v1/transactions/in-doubt").body(), "$[*].transaction.xid")).doesNotContain(g);
        assertThat((String) JsonPath.read(get("/api/v1/transactions/" + g).body(), "$.acknowledgedBy")).isEqualTo("jane");

        String plain = begin();
        client.commit(CommitRequest.newBuilder().setGtrid(plain).build());
        assertError(post("/api/v1/transactions/" + plain + "/forget", null), 409, "conflict", "heuristic");
    }

    // ---------------------------------------------------------------- OpenAPI

    /** The OpenAPI description needs an admin token (the read role suffices). */
    @Test
    void theOpenApiDescriptionNeedsAnAdminToken() throws Exception {
        assertError(send("GET", "/v3/api-docs", null, null, null), 401, "unauthorized");
        assertError(send("GET", "/v3/api-docs", null, CLIENT_TOKEN, null), 401, "unauthorized");
        HttpResponse<String> r = send("GET", "/v3/api-docs", null, READ_TOKEN, null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat((String) JsonPath.read(r.body(), "$.openapi")).startsWith("3.");
        Map<String, Object> paths = JsonPath.read(r.body(), "$.paths");
        assertThat(paths).containsKeys("/api/v1/transactions", "/api/v1/transactions/in-doubt", "/api/v1/transactions/{xid}",
                "/api/v1/transactions/{xid}/commit", "/api/v1/transactions/{xid}/rollback", "/api/v1/transactions/{xid}/forget");
        assertThat((String) JsonPath.read(r.body(), "$.components.securitySchemes.bearer.scheme")).isEqualTo("bearer");
    }

    // ---------------------------------------------------------------- helpers

    private String begin() {
        String g = gtrid();
        client.begin(BeginRequest.newBuilder().setGtrid(g).setName("admin-test").setTimeoutMs(60_000).build());
        return g;
    }

    private java.util.concurrent.Future<?> async(String g) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> client.commit(CommitRequest.newBuilder().setGtrid(g).build()));
    }

    private String status(String g) throws Exception {
        return JsonPath.read(get("/api/v1/transactions/" + g).body(), "$.status");
    }

    private static String gtrid() {
        return "adm-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return send("POST", path, body, ADMIN_TOKEN, body == null ? null : "application/json");
    }

    private static void assertError(HttpResponse<String> r, int status, String error, String... messageParts) {
        assertThat(r.statusCode()).as("status of " + r.request().method() + " " + r.uri() + ": " + r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat((Integer) JsonPath.read(r.body(), "$.status")).isEqualTo(status);
        assertThat((String) JsonPath.read(r.body(), "$.title")).isNotBlank();
        String detail = JsonPath.read(r.body(), "$.detail");
        for (String part : messageParts) {
            assertThat(detail).contains(part);
        }
        // the earlier body's members, kept for one release
        assertThat((String) JsonPath.read(r.body(), "$.error")).isEqualTo(error);
        assertThat((String) JsonPath.read(r.body(), "$.message")).isEqualTo(detail);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("trace");
    }
}
