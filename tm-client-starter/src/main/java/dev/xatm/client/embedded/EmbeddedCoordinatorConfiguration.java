package dev.xatm.client.embedded;

import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.coordinator.CoordinatorConfiguration;
import dev.xatm.coordinator.CoordinatorEngineConfiguration;
import dev.xatm.coordinator.config.ClientAuthToken;
import dev.xatm.coordinator.config.TmServerProperties;
import dev.xatm.coordinator.transport.AuthInterceptor;
import dev.xatm.coordinator.transport.CoordinatorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * {@code tm.client.mode=embedded}: the coordinator of tm-coordinator runs inside the application,
 * with its file log under {@code tm.server.file.dir} and all of {@code tm.server.*}, exactly as in
 * tm-server. The application's TM calls and its agent reach it over an in-process gRPC transport;
 * no port is opened unless {@code tm.client.embedded.listen=true}, which adds tm-server's Netty
 * listener on {@code tm.server.port} for other services (in remote mode) to join.
 *
 * <p>The auth token is the coordinator's own ({@code tm.server.auth-token}, or the one it generates
 * into its log directory): {@code tm.client.auth-token} is not needed. Everything here needs
 * tm-coordinator on the class path; without it, embedded mode fails at start-up naming it.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "tm.client.mode", havingValue = "embedded")
@ConditionalOnClass(name = "dev.xatm.coordinator.CoordinatorEngineConfiguration")
@Import(CoordinatorEngineConfiguration.class)
public class EmbeddedCoordinatorConfiguration {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedCoordinatorConfiguration.class);

    @Bean(destroyMethod = "close")
    InProcessCoordinator tmInProcessCoordinator(CoordinatorService service, AuthInterceptor auth, TmServerProperties server) {
        log.info("tm.client.mode=embedded: the coordinator runs in this application (log in {}, server id {})",
                server.file().dirPath().toAbsolutePath(), server.serverId());
        return new InProcessCoordinator(service, auth);
    }

    /** The only channel of the auto-configuration's channel set in embedded mode (instead of one per configured address). */
    @Bean(destroyMethod = "close")
    CoordinatorChannel tmEmbeddedCoordinatorChannel(InProcessCoordinator coordinator, ClientAuthToken token) {
        return CoordinatorChannel.inProcess(coordinator.name(), token.value(), "embedded coordinator (in-process)");
    }

    /** Also listens on tm.server.port, like tm-server, when asked to. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnBooleanProperty("tm.client.embedded.listen")
    @Import(CoordinatorConfiguration.class)
    static class NetworkListener {
    }
}
