package dev.xatm.client.propagation;

import dev.xatm.client.autoconfigure.TmClientAutoConfiguration;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auto-configured {@code WebClient.Builder} adds TM-XID inside a global transaction, and nothing
 * outside one. The exchange is answered in memory (real HTTP: EmbeddedTwoDatabasesIT).
 */
class WebClientPropagationTest {
    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(WebClientAutoConfiguration.class, TmClientAutoConfiguration.class))
            .withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.auth-token=t0ken-t0ken-t0ken");

    @AfterEach
    void unbind() {
        GlobalTxContext.bind(null);
    }

    @Test
    void theAutoConfiguredBuilderCarriesTheGtrid() {
        runner.run(ctx -> {
            AtomicReference<ClientRequest> seen = new AtomicReference<>();
            WebClient client = ctx.getBean(WebClient.Builder.class).exchangeFunction(request -> {
                seen.set(request);
                return Mono.just(ClientResponse.create(HttpStatus.OK).build());
            }).build();

            client.get().uri("http://downstream/x").retrieve().toBodilessEntity().block(Duration.ofSeconds(5));
            assertThat(seen.get().headers().containsHeader(TmXidHeader.NAME)).as("outside a global transaction").isFalse();

            GlobalTxContext.bind(new TxScope("xatm:web.1.1", true, Long.MAX_VALUE));
            client.get().uri("http://downstream/x").retrieve().toBodilessEntity().block(Duration.ofSeconds(5));
            assertThat(seen.get().headers().getFirst(TmXidHeader.NAME)).isEqualTo("xatm:web.1.1");
        });
    }
}
