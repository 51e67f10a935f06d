package dev.xatm.client.propagation;

import dev.xatm.client.autoconfigure.TmClientAutoConfiguration;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.restclient.RestTemplateBuilder;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestTemplateAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.client.MockRestServiceServer;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestTemplate;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.client.response.MockRestResponseCreators.withSuccess;

/**
 * The outgoing side: clients built from Spring Boot's RestClient, RestTemplate and WebClient builders
 * send TM-XID inside a global transaction, and nothing outside one. The value carries the caller's
 * deadline and a tag that a service deriving its key from the same tm.client.auth-token (and no
 * other) accepts. The exchanges are answered in memory (real HTTP: HttpPropagationIT, TwoServicesIT).
 */
class ClientPropagationTest {
    static final String TOKEN = "the-deployments-t0ken";
    static final String GTRID = "xatm:k3f9x2aa-web.1.1";

    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(RestClientAutoConfiguration.class, RestTemplateAutoConfiguration.class,
                    WebClientAutoConfiguration.class, TmClientAutoConfiguration.class))
            .withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.auth-token=" + TOKEN);

    /** The callee: another service of the deployment, which has only the token in common with the caller. */
    final TmXidSigner callee = new TmXidSigner(PropagationKey.choose(null, TOKEN, null), Clock.systemUTC(), Duration.ofSeconds(2));

    @AfterEach
    void unbind() {
        GlobalTxContext.bind(null);
    }

    static void bindScopeWithSecondsLeft(int seconds) {
        GlobalTxContext.bind(new TxScope(GTRID, true, System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)));
    }

    /** The callee joins the header's gtrid with the caller's 20 s (plus the 2 s skew allowed), less this test's moments. */
    void assertCalleeJoins(String header) {
        assertThat(header).startsWith(GTRID + ";exp=").contains(";tag=");
        TmXidSigner.Verdict v = callee.check(header, "xatm", Optional.empty());
        assertThat(v).isInstanceOf(TmXidSigner.Verdict.Join.class);
        assertThat(((TmXidSigner.Verdict.Join) v).gtrid()).isEqualTo(GTRID);
        assertThat(((TmXidSigner.Verdict.Join) v).remainingMillis()).isBetween(20_000L, 22_000L);
        TmXidSigner stranger = new TmXidSigner(PropagationKey.choose(null, "another-deployments-token", null), Clock.systemUTC(), Duration.ZERO);
        assertThat(stranger.check(header, "xatm", Optional.empty())).isInstanceOf(TmXidSigner.Verdict.Refuse.class);
    }

    @Test
    void restClientSendsASignedHeader() {
        runner.run(ctx -> {
            RestClient.Builder builder = ctx.getBean(RestClient.Builder.class);
            AtomicReference<String> seen = new AtomicReference<>();
            MockRestServiceServer server = MockRestServiceServer.bindTo(builder).ignoreExpectOrder(true).build();
            for (int i = 0; i < 2; i++) {
                server.expect(request -> seen.set(request.getHeaders().getFirst(TmXidHeader.NAME))).andRespond(withSuccess());
            }
            RestClient client = builder.build();

            client.get().uri("http://downstream/x").retrieve().toBodilessEntity();
            assertThat(seen.get()).as("outside a global transaction").isNull();

            bindScopeWithSecondsLeft(20);
            client.get().uri("http://downstream/x").retrieve().toBodilessEntity();
            assertCalleeJoins(seen.get());
        });
    }

    @Test
    void restTemplateSendsASignedHeader() {
        runner.run(ctx -> {
            RestTemplate template = ctx.getBean(RestTemplateBuilder.class).build();
            AtomicReference<String> seen = new AtomicReference<>();
            MockRestServiceServer server = MockRestServiceServer.bindTo(template).ignoreExpectOrder(true).build();
            for (int i = 0; i < 2; i++) {
                server.expect(request -> seen.set(request.getHeaders().getFirst(TmXidHeader.NAME))).andRespond(withSuccess());
            }

            template.getForEntity("http://downstream/x", String.class);
            assertThat(seen.get()).as("outside a global transaction").isNull();

            bindScopeWithSecondsLeft(20);
            template.getForEntity("http://downstream/x", String.class);
            assertCalleeJoins(seen.get());
        });
    }

    @Test
    void webClientSendsASignedHeader() {
        runner.run(ctx -> {
            AtomicReference<ClientRequest> seen = new AtomicReference<>();
            WebClient client = ctx.getBean(WebClient.Builder.class).exchangeFunction(request -> {
                seen.set(request);
                return Mono.just(ClientResponse.create(HttpStatus.OK).build());
            }).build();

            client.get().uri("http://downstream/x").retrieve().toBodilessEntity().block(Duration.ofSeconds(5));
            assertThat(seen.get().headers().containsHeader(TmXidHeader.NAME)).as("outside a global transaction").isFalse();

            bindScopeWithSecondsLeft(20);
            client.get().uri("http://downstream/x").retrieve().toBodilessEntity().block(Duration.ofSeconds(5));
            assertCalleeJoins(seen.get().headers().getFirst(TmXidHeader.NAME));
        });
    }
}
