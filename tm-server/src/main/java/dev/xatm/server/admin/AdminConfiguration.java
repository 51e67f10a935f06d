package dev.xatm.server.admin;

import dev.xatm.server.config.ClientAuthToken;
import dev.xatm.server.config.TmServerProperties;
import dev.xatm.server.log.TxnLog;
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

import java.time.Clock;

/**
 * The admin REST API's wiring: its own bearer token (tm.server.admin-token, or generated into
 * {@code <file.dir>/admin-token}), the filter that checks it on {@code /api/v1/*}, and the in-doubt
 * threshold. The OpenAPI description at {@code /v3/api-docs} is public (it holds no data).
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
        return new AdminSettings(inDoubtAfterMillis, properties.store().equals("jdbc") ? properties.nodeId() : null);
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
    FilterRegistrationBean<AdminAuthFilter> adminAuthFilter(AdminToken adminToken) {
        FilterRegistrationBean<AdminAuthFilter> registration = new FilterRegistrationBean<>(new AdminAuthFilter(adminToken.token().value()));
        registration.addUrlPatterns("/api/v1/*");
        registration.setName("adminAuthFilter");
        return registration;
    }
}
