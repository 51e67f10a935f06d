package dev.xatm.coordinator;

import dev.xatm.coordinator.config.TmServerProperties;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.coordinator.transport.AgentRegistry;
import dev.xatm.coordinator.transport.AuthInterceptor;
import dev.xatm.coordinator.transport.CoordinatorService;
import dev.xatm.coordinator.transport.GrpcServer;
import dev.xatm.coordinator.transport.ServerTls;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * Everything the coordinator is made of, in one place so one screen shows it: gRPC
 * ({@link GrpcServer}) -> {@link CoordinatorLoop} -> tm-core, with the {@link TxnLog} and the
 * {@link AgentRegistry} as the loop's outputs. All of it but the network listener lives in
 * {@link CoordinatorEngineConfiguration}.
 *
 * <p>Imported by the tm-server process, and by an application in {@code tm.client.mode=embedded}
 * that asks its in-process coordinator to listen on the network too: the same beans, the same log,
 * the same semantics.
 */
@Configuration(proxyBeanMethods = false)
@Import(CoordinatorEngineConfiguration.class)
public class CoordinatorConfiguration {

    /**
     * The Netty listener on {@code tm.server.bind-address}:{@code tm.server.port}, with TLS from the
     * Spring Boot SSL bundle {@code tm.server.tls.bundle} when one is named.
     */
    @Bean
    GrpcServer grpcServer(TmServerProperties properties, CoordinatorService service, AuthInterceptor auth, AgentRegistry agents,
                          ObjectProvider<SslBundles> sslBundles) {
        SslContext tls = properties.tls().enabled() ? ServerTls.context(properties.tls(), sslBundles.getIfAvailable()) : null;
        return new GrpcServer(properties.listenAddress(), tls, properties.keepaliveMs(), properties.maxInboundMessageBytes(),
                service, auth, agents);
    }
}
