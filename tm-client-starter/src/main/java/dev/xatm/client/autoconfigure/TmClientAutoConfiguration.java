package dev.xatm.client.autoconfigure;

import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.agent.Agent;
import dev.xatm.client.agent.AgentListener;
import dev.xatm.client.agent.AgentSettings;
import dev.xatm.client.coordinator.ChannelTls;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.client.coordinator.GrpcCoordinatorAccess;
import dev.xatm.client.coordinator.ServerAddresses;
import dev.xatm.client.embedded.EmbeddedCoordinatorConfiguration;
import dev.xatm.client.enlist.BqualMinter;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.DataSourceEnlister;
import dev.xatm.client.enlist.Enlistment;
import dev.xatm.client.enlist.LocalTransactionGuard;
import dev.xatm.client.enlist.ResourceRegistry;
import dev.xatm.client.enlist.StartupCheck;
import dev.xatm.client.propagation.PropagationKey;
import dev.xatm.client.propagation.TmXidClientInterceptor;
import dev.xatm.client.propagation.TmXidExchangeFilter;
import dev.xatm.client.propagation.TmXidServletFilter;
import dev.xatm.client.propagation.TmXidSigner;
import dev.xatm.client.support.BeginGuard;
import dev.xatm.client.support.GlobalTransactionInterceptor;
import dev.xatm.client.support.GlobalTransactionManager;
import dev.xatm.client.support.OneRoundTripCommit;
import dev.xatm.client.support.GtridMinter;
import dev.xatm.client.support.TxMetrics;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.Advisor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

import java.time.Clock;
import java.util.HashSet;
import java.util.Optional;

/**
 * Wires the starter: coordinator access, the agent, enlistment of DataSource beans, the
 * {@code @GlobalTransactional} advisor, HTTP propagation, health and metrics. Everything is
 * switched off by {@code tm.client.enabled=false}; each optional part needs its classes.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "tm.client.enabled", matchIfMissing = true)
@EnableConfigurationProperties(TmClientProperties.class)
@Import({TmClientAutoConfiguration.AutoProxyRegistrar.class, EmbeddedCoordinatorConfiguration.class})
public class TmClientAutoConfiguration {
    /** Outside {@code @Transactional}'s advisor, so a method with both runs its local transaction inside the global one. */
    static final int ADVISOR_ORDER = Ordered.LOWEST_PRECEDENCE - 1000;

    @Bean
    @ConditionalOnMissingBean
    TmClientSettings tmClientSettings(TmClientProperties properties, Environment env) {
        properties.validate();
        return TmClientSettings.of(properties, env);
    }

    /**
     * Remote mode's channels, one per address of tm.client.server-address (and one per server the
     * cluster announces later); in embedded mode {@link EmbeddedCoordinatorConfiguration} provides the
     * single in-process one.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    CoordinatorChannels tmCoordinatorChannels(ObjectProvider<CoordinatorChannel> embedded, TmClientProperties properties,
                                              ObjectProvider<SslBundles> sslBundles) {
        CoordinatorChannel inProcess = embedded.getIfAvailable();
        if (inProcess != null) {
            return CoordinatorChannels.fixed(inProcess);
        }
        if (properties.getMode() == TmClientProperties.Mode.EMBEDDED) {
            // only reached when the embedded configuration did not apply: its classes are missing
            throw new IllegalStateException("tm.client.mode=embedded needs the coordinator library on the class path: add the "
                    + "dependency dev.xatm:tm-coordinator (same version as tm-client-starter). Or use tm.client.mode=remote "
                    + "with a running tm-server and set tm.client.server-address and tm.client.auth-token.");
        }
        return CoordinatorChannels.remote(ServerAddresses.parse(properties.getServerAddress()), properties.getAuthToken(),
                properties.getKeepaliveMs(), channelTls(properties.getTls(), sslBundles));
    }

    /** tm.client.tls.*: null for plaintext; the bundle is looked up now, so a wrong name stops start-up naming it. */
    private static ChannelTls channelTls(TmClientProperties.Tls tls, ObjectProvider<SslBundles> sslBundles) {
        if (!tls.isOn()) {
            return null;
        }
        String name = tls.getBundle() == null || tls.getBundle().isBlank() ? null : tls.getBundle().trim();
        SslBundle bundle = null;
        if (name != null) {
            SslBundles bundles = sslBundles.getIfAvailable();
            if (bundles == null) {
                throw new IllegalStateException("tm.client.tls.bundle=" + name + " needs Spring Boot's SSL bundles (spring.ssl.bundle.*),"
                        + " which this application does not configure");
            }
            try {
                bundle = bundles.getBundle(name);
            } catch (NoSuchSslBundleException e) {
                throw new IllegalStateException("tm.client.tls.bundle names SSL bundle '" + name + "', which is not declared: add"
                        + " spring.ssl.bundle.pem." + name + ".truststore.certificate (the CA of the tm-servers' certificates)", e);
            }
        }
        return ChannelTls.of(bundle, name, tls.getAuthority());
    }

    /** Each call to the server that owns its gtrid (the agent knows which are connected). */
    @Bean
    @ConditionalOnMissingBean
    CoordinatorAccess tmCoordinatorAccess(Agent agent, CoordinatorChannels channels, TmClientProperties properties) {
        String description = channels.configured().size() == 1 ? channels.configured().get(0).description()
                : "tm-servers at " + properties.getServerAddress();
        return new GrpcCoordinatorAccess(agent.routes(), agent, agent.instanceSecret(), description, properties.getCallTimeoutMs().toMillis(), properties.getCommitTimeoutMs().toMillis());
    }

    @Bean
    @ConditionalOnMissingBean
    BranchTable tmBranchTable(TmClientProperties properties) {
        return new BranchTable(properties.getFinishedBranchMemory());
    }

    @Bean
    @ConditionalOnMissingBean
    ResourceRegistry tmResourceRegistry() {
        return new ResourceRegistry();
    }

    @Bean
    @ConditionalOnMissingBean
    Enlistment tmEnlistment(CoordinatorAccess coordinator, TmClientSettings settings, BranchTable table, Agent agent,
                            TmClientProperties properties) {
        return new Enlistment(coordinator, settings.agentId(), new BqualMinter(settings.instanceTag()), table,
                agent::awaitConnected, properties.getCallTimeoutMs().toMillis(), properties.isReadOnlyVotes(),
                properties.isReadOnlyVotesOnMysql());
    }

    @Bean(destroyMethod = "")
    @ConditionalOnMissingBean
    Agent tmAgent(CoordinatorChannels channels, TmClientSettings settings, BranchTable table, ResourceRegistry resources,
                  TmClientProperties properties, ObjectProvider<AgentListener> listener) {
        AgentSettings agent = new AgentSettings(settings.agentId(), properties.getGtridPrefix(), properties.getReconnectBackoffInitialMs(),
                properties.getReconnectBackoffMaxMs(), properties.getAgentThreads(), properties.getCallTimeoutMs().toMillis(),
                properties.getResumeIntervalMs(), properties.getMembersRefreshMs(),
                positive(properties.getRecoveryInterval(), "tm.client.recovery-interval"),
                notNegative(properties.getRecoverySafetyInterval(), "tm.client.recovery-safety-interval"),
                properties.isRecoverLegacyXids());
        return new Agent(agent, channels, table, resources::all, listener.getIfAvailable(() -> AgentListener.NONE));
    }

    private static long positive(java.time.Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, e.g. 30s");
        }
        return d.toMillis();
    }

    private static long notNegative(java.time.Duration d, String name) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be a duration of zero or more, e.g. 60s");
        }
        return d.toMillis();
    }

    @Bean
    AgentLifecycle tmAgentLifecycle(Agent agent) {
        return new AgentLifecycle(agent);
    }

    @Bean
    @ConditionalOnMissingBean
    GlobalTransactionManager tmGlobalTransactionManager(CoordinatorAccess coordinator, TmClientSettings settings, Agent agent,
                                                        TmClientProperties properties, ObjectProvider<TxMetrics> metrics,
                                                        ObjectProvider<OneRoundTripCommit> oneRoundTrip,
                                                        ObjectProvider<BeginGuard> beginGuard) {
        // Each gtrid names the deployment's cluster id (from the servers' Welcome), and a connected server as its
        // owner when the servers share a store. The owner only when the calls are routed by it: an application's
        // own CoordinatorAccess decides where its calls go itself.
        GtridMinter gtrids = new GtridMinter(properties.getGtridPrefix(), settings.instanceTag(), agent.routes(),
                properties.getCallTimeoutMs().toMillis(), coordinator instanceof GrpcCoordinatorAccess);
        return new GlobalTransactionManager(coordinator, gtrids,
                properties.getDefaultTimeoutMs().toMillis(), properties.isWaitForCompletion(), metrics.getIfAvailable(() -> TxMetrics.NONE),
                properties.getCommitPath() == TmClientProperties.CommitPath.ONE_ROUND_TRIP ? oneRoundTrip.getObject() : null,
                beginGuard.getIfAvailable(() -> BeginGuard.NONE));
    }

    /**
     * A global transaction must not begin inside a Spring-managed local transaction that already holds
     * a connection of an enlisted data source: that database would silently stay out of it.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"org.springframework.transaction.support.TransactionSynchronizationManager",
            "org.springframework.jdbc.datasource.DelegatingDataSource"})
    static class LocalTransactionGuardConfiguration {
        @Bean
        @ConditionalOnMissingBean(BeginGuard.class)
        LocalTransactionGuard tmLocalTransactionGuard(ResourceRegistry registry) {
            return new LocalTransactionGuard(registry::all);
        }
    }

    /** Used only with tm.client.commit-path=one-round-trip. */
    @Bean
    @ConditionalOnMissingBean
    OneRoundTripCommit tmOneRoundTripCommit(CoordinatorAccess coordinator, Enlistment enlistment, Agent agent) {
        return new OneRoundTripCommit(coordinator, enlistment, agent);
    }

    @Bean
    @ConditionalOnMissingBean
    GlobalTransactionTemplate tmGlobalTransactionTemplate(GlobalTransactionManager manager) {
        return new GlobalTransactionTemplate(manager);
    }

    @Bean
    static DataSourceEnlister tmDataSourceEnlister(ObjectProvider<Enlistment> enlistment, ObjectProvider<ResourceRegistry> registry,
                                                   Environment env) {
        var binder = org.springframework.boot.context.properties.bind.Binder.get(env);
        TmClientProperties p = binder.bind("tm.client", TmClientProperties.class).orElseGet(TmClientProperties::new);
        return new DataSourceEnlister(enlistment, registry, new HashSet<>(p.getExcludedDataSources()), p.getResourceIds());
    }

    @Bean
    SmartInitializingSingleton tmStartupCheck(ResourceRegistry registry, TmClientProperties properties) {
        return () -> {
            if (properties.isStartupCheck()) {
                StartupCheck.run(registry);
            }
        };
    }

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static Advisor tmGlobalTransactionalAdvisor(ObjectProvider<GlobalTransactionManager> manager) {
        ComposablePointcut pointcut = new ComposablePointcut(AnnotationMatchingPointcut.forMethodAnnotation(GlobalTransactional.class))
                .union(new AnnotationMatchingPointcut(GlobalTransactional.class, true));
        DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(pointcut, new LazyInterceptor(manager));
        advisor.setOrder(ADVISOR_ORDER);
        return advisor;
    }

    /** Resolves the manager on the first call, so the advisor does not pull the whole starter in early. */
    static final class LazyInterceptor implements MethodInterceptor {
        private final ObjectProvider<GlobalTransactionManager> manager;
        private volatile GlobalTransactionInterceptor delegate;

        LazyInterceptor(ObjectProvider<GlobalTransactionManager> manager) {
            this.manager = manager;
        }

        @Override
        public Object invoke(MethodInvocation invocation) throws Throwable {
            GlobalTransactionInterceptor d = delegate;
            if (d == null) {
                d = new GlobalTransactionInterceptor(manager.getObject());
                delegate = d;
            }
            return d.invoke(invocation);
        }
    }

    /** Makes sure an auto-proxy creator exists even with spring.aop.auto=false (as @EnableTransactionManagement does). */
    static final class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {
        @Override
        public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
            AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
            AopConfigUtils.forceAutoProxyCreatorToUseClassProxying(registry);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class MetricsConfiguration {
        @Bean
        @ConditionalOnMissingBean
        MicrometerTxMetrics tmMicrometerMetrics(ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry,
                                                ObjectProvider<io.micrometer.observation.ObservationRegistry> observations) {
            return new MicrometerTxMetrics(registry, observations);
        }

        @Bean
        @ConditionalOnMissingBean(name = "tmRecoveryMeters")
        RecoveryMeters tmRecoveryMeters(Agent agent) {
            return new RecoveryMeters(agent);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthConfiguration {
        @Bean
        @ConditionalOnMissingBean(name = "tmClientHealthIndicator")
        TmClientHealthIndicator tmClientHealthIndicator(Agent agent, BranchTable table) {
            return new TmClientHealthIndicator(agent, table);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "tm.client.http-propagation", havingValue = "true", matchIfMissing = true)
    static class PropagationConfiguration {
        private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PropagationConfiguration.class);

        /** Signs outgoing and checks incoming TM-XID headers; the key as {@link PropagationKey#choose} says. */
        @Bean
        @ConditionalOnMissingBean
        TmXidSigner tmXidSigner(TmClientProperties properties, Environment env) {
            properties.validate();
            // embedded mode: remote-mode services of the same deployment use tm.server.auth-token as their client token
            String serverToken = properties.getMode() == TmClientProperties.Mode.EMBEDDED ? env.getProperty("tm.server.auth-token") : null;
            PropagationKey key = PropagationKey.choose(properties.getPropagation().getSecret(), properties.getAuthToken(), serverToken);
            if (key.processLocal()) {
                log.info("TM-XID headers are signed with a random key of this process: requests from other processes cannot join "
                        + "its global transactions; set tm.client.propagation.secret (the same on every service) to allow them");
            } else {
                log.debug("TM-XID headers are signed with a key {}", key.origin());
            }
            return new TmXidSigner(key, Clock.systemUTC(), properties.getPropagation().getMaxClockSkew());
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "org.springframework.http.client.ClientHttpRequestInterceptor")
        static class RestInterceptor {
            /** Also for a RestClient or RestTemplate built by hand: inject it and add it as a request interceptor. */
            @Bean
            @ConditionalOnMissingBean
            TmXidClientInterceptor tmXidClientInterceptor(TmXidSigner signer) {
                return new TmXidClientInterceptor(signer);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = {"org.springframework.http.client.ClientHttpRequestInterceptor", "org.springframework.boot.restclient.RestClientCustomizer"})
        static class RestClients {
            @Bean
            org.springframework.boot.restclient.RestClientCustomizer tmXidRestClientCustomizer(TmXidClientInterceptor interceptor) {
                return builder -> builder.requestInterceptor(interceptor);
            }

            @Bean
            org.springframework.boot.restclient.RestTemplateCustomizer tmXidRestTemplateCustomizer(TmXidClientInterceptor interceptor) {
                return restTemplate -> restTemplate.getInterceptors().add(interceptor);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = "org.springframework.web.reactive.function.client.ExchangeFilterFunction")
        static class ExchangeFilter {
            /** Also for a WebClient built by hand: inject it and add it as a filter. */
            @Bean
            @ConditionalOnMissingBean
            TmXidExchangeFilter tmXidExchangeFilter(TmXidSigner signer) {
                return new TmXidExchangeFilter(signer);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnClass(name = {"org.springframework.web.reactive.function.client.WebClient", "org.springframework.boot.webclient.WebClientCustomizer"})
        static class WebClients {
            @Bean
            org.springframework.boot.webclient.WebClientCustomizer tmXidWebClientCustomizer(TmXidExchangeFilter filter) {
                return builder -> builder.filter(filter);
            }
        }

        @Configuration(proxyBeanMethods = false)
        @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
        @ConditionalOnClass(name = "org.springframework.web.filter.OncePerRequestFilter")
        static class Servlet {
            @Bean
            org.springframework.boot.web.servlet.FilterRegistrationBean<TmXidServletFilter> tmXidServletFilter(
                    TmClientProperties properties, TmXidSigner signer, ObjectProvider<Agent> agent) {
                var registration = new org.springframework.boot.web.servlet.FilterRegistrationBean<>(
                        new TmXidServletFilter(signer, properties.getGtridPrefix(),
                                () -> Optional.ofNullable(agent.getIfAvailable()).flatMap(Agent::clusterId)));
                registration.setName("tmXidFilter");
                // early, so the gtrid is bound before anything that could touch a database
                registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 100);
                return registration;
            }
        }
    }
}
