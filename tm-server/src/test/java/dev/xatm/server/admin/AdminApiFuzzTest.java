package dev.xatm.server.admin;

import dev.xatm.server.TmServerApplication;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.xatm.testkit.FuzzTally;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import dev.xatm.coordinator.CoordinatorConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationExcludeFilter;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;
import org.springframework.context.annotation.Import;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.type.classreading.MetadataReader;
import org.springframework.core.type.classreading.MetadataReaderFactory;
import org.springframework.core.type.filter.TypeFilter;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.slf4j.Logger.ROOT_LOGGER_NAME;

/**
 * Hostile requests at the admin HTTP server, the whole of tm-server running in-process on a random
 * port with its file log in a temporary directory: random paths under /api/v1 and outside it, every
 * method (odd ones too), bodies of every JSON type ({@code null}, arrays, numbers, strings, deep
 * nesting, unknown fields), oversize and non-JSON bodies, wrong and malformed {@code Content-Type}
 * and {@code Accept} headers, no or a wrong token. Every request ends in a 2xx or in a 4xx whose body
 * is an {@code application/problem+json} document with that status; never a 5xx, a stack trace, the
 * admin token, or no answer. Its server log (a file under target/) holds no token either.
 */
class AdminApiFuzzTest {
    private static final FuzzTally TALLY = new FuzzTally("admin-api", "status");
    private static final String ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef";
    private static final String CLIENT_TOKEN = "fuzz-client-token-0123456789abcdef";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    private static ConfigurableApplicationContext server;
    private static HttpClient http;
    private static int port;
    private static Path dataDir;
    private static Path logFile;
    /**
     * Every log event from the moment the server is up. The log file alone is not enough: when another
     * Spring context of this test JVM is still open, Spring Boot leaves logging as that context set it
     * up and never writes {@link #logFile}.
     */
    private static final ListAppender<ILoggingEvent> EVENTS = new ListAppender<>();

    /**
     * tm-server as {@link TmServerApplication} builds it, from the production classes only: the scan
     * leaves out test classes (other tests' configurations would add their own beans). Deliberately not
     * a {@code @Configuration}, so that no other test's scan picks it up.
     */
    @EnableAutoConfiguration
    @ComponentScan(basePackageClasses = TmServerApplication.class, excludeFilters = {
            @ComponentScan.Filter(type = FilterType.CUSTOM, classes = AutoConfigurationExcludeFilter.class),
            @ComponentScan.Filter(type = FilterType.CUSTOM, classes = TestClasses.class)})
    @Import(CoordinatorConfiguration.class)
    static class ProductionBeans {}

    /** Matches every class compiled from src/test. */
    static class TestClasses implements TypeFilter {
        @Override
        public boolean match(MetadataReader reader, MetadataReaderFactory factory) throws java.io.IOException {
            return reader.getResource().getURL().toString().contains("/test-classes/");
        }
    }

    @BeforeContainer
    static void start() throws Exception {
        dataDir = Files.createTempDirectory("admin-fuzz");
        logFile = Path.of("target", "fuzz-logs", "admin-api-fuzz.log").toAbsolutePath();
        Files.deleteIfExists(logFile);
        server = new SpringApplicationBuilder(ProductionBeans.class)
                // the coordinator's fatal-error exit is recorded instead of killing the test JVM
                .initializers(ctx -> ((GenericApplicationContext) ctx).registerBean("fuzzHalt", CoordinatorLoop.Halt.class,
                        () -> HALTS::add, definition -> definition.setPrimary(true)))
                .run(
                "--server.port=0", "--tm.server.port=0", "--tm.server.file.dir=" + dataDir,
                "--tm.server.auth-token=" + CLIENT_TOKEN, "--tm.server.admin-token=" + ADMIN_TOKEN,
                // thousands of refusals are logged: to a file, not the console
                "--logging.file.name=" + logFile, "--logging.threshold.console=OFF");
        port = ((WebServerApplicationContext) server).getWebServer().getPort();
        EVENTS.start();
        ((Logger) org.slf4j.LoggerFactory.getLogger(ROOT_LOGGER_NAME)).addAppender(EVENTS);
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterContainer
    static void stop() throws Exception {
        System.out.println(TALLY.summary());
        if (server != null) {
            server.close();
        }
        try (var files = Files.walk(dataDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertThat(HALTS).as("the coordinator halted").isEmpty();
        ((Logger) org.slf4j.LoggerFactory.getLogger(ROOT_LOGGER_NAME)).detachAppender(EVENTS);
        StringBuilder logged = new StringBuilder(Files.exists(logFile) ? Files.readString(logFile) : "");
        for (ILoggingEvent e : EVENTS.list) {
            logged.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                logged.append(ThrowableProxyUtil.asString(e.getThrowableProxy())).append('\n');
            }
        }
        assertThat(EVENTS.list).as("log events captured while fuzzing (refusals at least)").isNotEmpty();
        assertThat(logged.toString()).as("the server's log").doesNotContain(ADMIN_TOKEN).doesNotContain(CLIENT_TOKEN);
    }

    /** One generated request. */
    record Request(String method, String path, String token, String contentType, String accept, String body) {
        @Override
        public String toString() {
            String b = body == null ? "no body" : body.length() > 200 ? body.substring(0, 200) + "... (" + body.length() + " chars)" : body;
            return method + " " + (path.length() > 200 ? path.substring(0, 200) + "..." : path) + " token=" + (token == null ? "none" : token.equals(ADMIN_TOKEN) ? "admin" : "wrong")
                    + " Content-Type=" + contentType + " Accept=" + accept + " body=" + b;
        }
    }

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void everyRequestEndsIn2xxOrAProblemDocument(@ForAll("requests") Request request) throws Exception {
        TALLY.run(() -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + request.path()))
                    .timeout(Duration.ofSeconds(15))
                    .method(request.method(), request.body() == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(request.body()));
            if (request.token() != null) {
                b.header("Authorization", "Bearer " + request.token());
            }
            if (request.contentType() != null) {
                b.header("Content-Type", request.contentType());
            }
            if (request.accept() != null) {
                b.header("Accept", request.accept());
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            int status = r.statusCode();
            assertThat(status).as("%s answered %s: %s", request, status, r.body()).satisfiesAnyOf(
                    s -> assertThat(s).isBetween(200, 299),
                    s -> assertThat(s).isBetween(400, 499));
            assertThat(r.body()).as("%s answered %s", request, status)
                    .doesNotContain("Exception").doesNotContain("\tat ").doesNotContain(ADMIN_TOKEN).doesNotContain(CLIENT_TOKEN);
            if (status >= 400 && !request.method().equals("HEAD")) {
                assertThat(r.headers().firstValue("Content-Type")).as("%s answered %s", request, status)
                        .hasValueSatisfying(t -> assertThat(t).startsWith(Problems.MEDIA_TYPE));
                JsonNode problem = JSON.readTree(r.body());
                assertThat(problem.isObject()).isTrue();
                assertThat(problem.path("status").asInt()).isEqualTo(status);
                assertThat(problem.path("title").asString()).isNotBlank();
            }
            return Integer.toString(status);
        });
    }

    // ---------------------------------------------------------------- generators

    @Provide
    Arbitrary<Request> requests() {
        Arbitrary<String> methods = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("GET", "POST")),
                Tuple.of(2, Arbitraries.of("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")),
                Tuple.of(1, Arbitraries.of("TRACE", "PROPFIND", "FOO", "get", "M-SEARCH")));
        Arbitrary<String> tokens = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.just(ADMIN_TOKEN)),
                Tuple.of(1, Arbitraries.of(CLIENT_TOKEN, "x", ADMIN_TOKEN + "x", ADMIN_TOKEN.substring(1))),
                Tuple.of(1, Arbitraries.just(NONE)));
        Arbitrary<String> contentTypes = Arbitraries.of(NONE, "", "application/json", "application/json; charset=utf-8",
                "APPLICATION/JSON", "application/problem+json", "application/merge-patch+json", "text/plain", "application/xml",
                "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "*/*", "application/*", "json",
                "garbage", "application/json; charset=bogus-42", "application/json;;;", "/", ";", "text/", "application/json; q=");
        Arbitrary<String> accepts = Arbitraries.of(NONE, "application/json", "text/html", "*/*", "application/xml", "text/plain",
                "application/problem+json", "nonsense", "application/json;q=0", "image/png, */*;q=0.1");
        return Combinators.combine(methods, paths(), tokens, contentTypes, accepts, bodies())
                .as((m, p, t, c, a, b) -> new Request(m, p, none(t), none(c), none(a), none(b)));
    }

    private static Arbitrary<String> paths() {
        Arbitrary<String> segment = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withCharRange('a', 'z').withChars('-', '.', ':', '_').ofMinLength(1).ofMaxLength(20)),
                Tuple.of(2, Arbitraries.strings().ofMinLength(1).ofMaxLength(30).map(AdminApiFuzzTest::encode)),
                Tuple.of(1, Arbitraries.of("..", ".", "%2F", "%00", "%2e%2e", ";jsessionid=1", "%25", "in-doubt", "commit",
                        "rollback", "forget", "transactions", "v1", "api", "%C0%AF", "%E2%80%AE", "a%20b", "+", "~")),
                Tuple.of(1, Arbitraries.integers().between(60, 3_000).map("x"::repeat)));
        Arbitrary<String> xid = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').withChars('-', ':', '.').ofMinLength(1).ofMaxLength(64)),
                Tuple.of(2, segment));
        Arbitrary<String> query = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.just("")),
                Tuple.of(3, Combinators.combine(Arbitraries.of("status", "limit", "protocol", "name", "minAgeMs", "cursor", "x", "limit[]"),
                        Arbitraries.oneOf(Arbitraries.of("", "1", "0", "-1", "1001", "99999999999999999999", "ACTIVE", "FINISHED_COMMITTED",
                                        "2PC", "3PC", "NaN", "1e3", "null", "%25", "%00"),
                                Arbitraries.strings().ofMaxLength(30).map(AdminApiFuzzTest::encode)))
                        .as((k, v) -> "?" + k + "=" + v)),
                Tuple.of(1, Arbitraries.strings().ofMaxLength(40).map(s -> "?" + encode(s))));
        Arbitrary<String> path = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of("/api/v1/transactions", "/api/v1/transactions/in-doubt", "/api/v1/cluster")),
                Tuple.of(4, xid.map(x -> "/api/v1/transactions/" + x)),
                Tuple.of(4, Combinators.combine(xid, Arbitraries.of("commit", "rollback", "forget", "", "COMMIT", "commit/", "x"))
                        .as((x, a) -> "/api/v1/transactions/" + x + "/" + a)),
                Tuple.of(3, segment.list().ofMinSize(0).ofMaxSize(5).map(s -> "/api/v1/" + String.join("/", s))),
                Tuple.of(1, segment.list().ofMinSize(0).ofMaxSize(4).map(s -> "/" + String.join("/", s))),
                Tuple.of(1, Arbitraries.of("/", "/api", "/api/v1", "/api/v1/", "/api/v2/transactions", "/actuator/health", "/error",
                        "//api/v1/transactions", "/api/v1//transactions", "/api/v1/transactions/", "/console/")));
        return Combinators.combine(path, query).as((p, q) -> p + q);
    }

    /** No body, every JSON type, unknown fields, deep nesting, oversize, and text that is not JSON at all. */
    private static Arbitrary<String> bodies() {
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(60);
        Arbitrary<String> jsonString = text.map(s -> JSON.writeValueAsString(s));
        Arbitrary<String> scalar = Arbitraries.oneOf(
                Arbitraries.of("null", "true", "false", "0", "-1", "1e308", "-1.5e-308", "123456789012345678901234567890", "\"\"", "NaN"),
                jsonString);
        Arbitrary<String> objects = Arbitraries.oneOf(
                Combinators.combine(scalar, scalar).as((o, r) -> "{\"operator\":" + o + ",\"reason\":" + r + "}"),
                scalar.map(v -> "{\"operator\":" + v + "}"),
                Combinators.combine(Arbitraries.strings().ofMaxLength(20), scalar)
                        .as((k, v) -> "{" + JSON.writeValueAsString(k) + ":" + v + "}"),
                Arbitraries.of("{}", "{\"operator\":\"jane\",\"operator\":\"joe\"}", "{\"operator\":\"jane\"", "{\"operator\":[1]}",
                        "{\"reason\":{\"a\":1}}", "{\"operator\":\"jane\",\"force\":true}"));
        Arbitrary<String> arrays = scalar.list().ofMaxSize(5).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> deep = Arbitraries.integers().between(100, 5_000).map(n -> "[".repeat(n) + "]".repeat(n));
        Arbitrary<String> oversize = Arbitraries.integers().between(4_000, 40_000)
                .map(n -> "{\"operator\":\"" + "a".repeat(n) + "\"}");
        return Arbitraries.frequencyOf(
                Tuple.of(5, Arbitraries.just(NONE)),
                Tuple.of(3, scalar),
                Tuple.of(4, objects),
                Tuple.of(2, arrays),
                Tuple.of(1, deep),
                Tuple.of(1, oversize),
                Tuple.of(2, text));
    }

    /** Stands for "no such header / no body" in the generators. */
    private static final String NONE = "<none>";

    private static String none(String value) {
        return NONE.equals(value) ? null : value;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
