package dev.xatm.server.admin;

import dev.xatm.coordinator.config.ClientAuthToken;
import dev.xatm.coordinator.config.TmServerProperties;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.server.recovery.RecoveryConnections;
import dev.xatm.server.recovery.RecoveryResources;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.enums.SecuritySchemeType;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.security.SecurityScheme;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.xatm.coordinator.transport.RefusalLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;

import java.time.Clock;

/**
 * The admin REST API's wiring: its tokens ({@link AdminCredentials}: tm.server.admin-token, or the one
 * generated into {@code <file.dir>/admin-token}, tm.server.admin-read-token and tm.server.operators.*),
 * the filter that checks them on every request of the admin port ({@link AdminAuthFilter}: the API, the
 * actuator endpoints beyond health, the OpenAPI description), and the in-doubt threshold.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(RecoveryResources.class)
@OpenAPIDefinition(info = @Info(title = "xatm tm-server admin API", version = "v1",
        description = "Inspect global transactions and resolve in-doubt ones. See docs/operations.md."),
        security = @SecurityRequirement(name = "bearer"))
@SecurityScheme(name = "bearer", type = SecuritySchemeType.HTTP, scheme = "bearer")
public class AdminConfiguration {

    @Bean
    AdminToken adminToken(TmServerProperties properties) {
        return new AdminToken(ClientAuthToken.resolveAdmin(properties));
    }

    /** The server's own connections to tm.server.resources.*, used by forced resolutions when an agent is gone. */
    @Bean
    RecoveryConnections recoveryConnections(RecoveryResources resources) {
        return new RecoveryConnections(resources);
    }

    /** Operators' forced resolutions, kept by the transaction log's own store so that they outlive a restart. */
    @Bean
    OperatorHistory operatorHistory(TxnLog txnLog) {
        return new OperatorHistory(txnLog.operatorJournal(), Clock.systemUTC());
    }

    @Bean
    AdminSettings adminSettings(@Value("${tm.server.in-doubt-after-ms:60000}") long inDoubtAfterMillis, TmServerProperties properties) {
        // On the JDBC store every transaction this server holds (its own, and those adopted from a dead
        // node) is driven by its node id; the file store has no nodes.
        return new AdminSettings(inDoubtAfterMillis, properties.store() == TmServerProperties.Store.JDBC ? properties.nodeId() : null);
    }

    /**
     * Requests Tomcat refuses before Spring sees them (a request line over its limit, a malformed
     * URI) get JSON too: the host's HTML error valve, which Boot installs, is swapped for
     * {@link JsonErrorReportValve} when the context starts.
     */
    @Bean
    WebServerFactoryCustomizer<TomcatServletWebServerFactory> jsonContainerErrors() {
        return factory -> factory.addContextCustomizers(context -> context.addLifecycleListener(event -> {
            if (!Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                return;
            }
            Pipeline host = context.getParent().getPipeline();
            for (Valve v : host.getValves()) {
                if (v instanceof JsonErrorReportValve) {
                    return;
                }
                if (v instanceof ErrorReportValve) {
                    host.removeValve(v);
                }
            }
            host.addValve(new JsonErrorReportValve());
        }));
    }

    /** Before anything reads a body: a malformed or wildcard Content-Type is a 415, on every path. */
    @Bean
    FilterRegistrationBean<ContentTypeFilter> contentTypeFilter() {
        FilterRegistrationBean<ContentTypeFilter> registration = new FilterRegistrationBean<>(new ContentTypeFilter());
        registration.addUrlPatterns("/*");
        registration.setName("contentTypeFilter");
        registration.setOrder(org.springframework.core.Ordered.HIGHEST_PRECEDENCE + 100);
        return registration;
    }

    @Bean
    AdminCredentials adminCredentials(TmServerProperties properties, AdminToken adminToken, ClientAuthToken clientToken) {
        return AdminCredentials.of(properties, adminToken.token(), clientToken);
    }

    /** On every path, first of all filters: which paths need which role is the filter's one decision ({@link AdminAuthFilter#needed}). */
    @Bean
    FilterRegistrationBean<AdminAuthFilter> adminAuthFilter(AdminCredentials credentials) {
        Logger log = LoggerFactory.getLogger(AdminAuthFilter.class);
        FilterRegistrationBean<AdminAuthFilter> registration = new FilterRegistrationBean<>(
                new AdminAuthFilter(credentials, new RefusalLog(Clock.systemUTC(), log::warn)));
        registration.addUrlPatterns("/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        registration.setName("adminAuthFilter");
        return registration;
    }
}
