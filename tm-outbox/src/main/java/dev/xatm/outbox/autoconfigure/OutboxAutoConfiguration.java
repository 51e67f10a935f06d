package dev.xatm.outbox.autoconfigure;

import dev.xatm.client.autoconfigure.TmClientAutoConfiguration;
import dev.xatm.outbox.Inbox;
import dev.xatm.outbox.Outbox;
import dev.xatm.outbox.OutboxDataSources;
import dev.xatm.outbox.rabbit.RabbitPublisher;
import dev.xatm.outbox.relay.RelayHook;
import dev.xatm.outbox.relay.RelayObserver;
import dev.xatm.outbox.relay.RelayStatus;
import dev.xatm.outbox.store.OutboxMigrations;
import dev.xatm.outbox.store.OutboxTables;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.amqp.autoconfigure.RabbitConnectionDetails;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The outbox, opt-in with {@code tm.outbox.enabled=true}: migrates the outbox and inbox tables on
 * each data source of {@code tm.outbox.data-sources} (at start-up, outside any global transaction),
 * offers {@link Outbox} and {@link Inbox}, and runs a relay per data source to RabbitMQ
 * ({@code spring.rabbitmq.*}) unless {@code tm.outbox.relay.enabled=false}.
 *
 * <p>The relay has its own RabbitMQ connection, with publisher confirms and returns, built from the
 * application's {@code spring.rabbitmq.*} settings; it is not a bean, so Spring Boot's own connection
 * factory (the one listeners use) stays as the application configured it.
 */
@AutoConfiguration(after = TmClientAutoConfiguration.class,
        afterName = "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration")
@ConditionalOnProperty(prefix = "tm.outbox", name = "enabled", havingValue = "true")
@EnableConfigurationProperties(OutboxProperties.class)
public class OutboxAutoConfiguration {

    @Bean
    OutboxDataSources outboxDataSources(ListableBeanFactory beans, OutboxProperties properties) {
        properties.validate();
        OutboxTables tables = new OutboxTables(properties.getTablePrefix());
        List<OutboxDataSources.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, DataSource> e : chosen(beans, properties.getDataSources()).entrySet()) {
            OutboxDataSources.requireEnlisted(e.getKey(), e.getValue());
            entries.add(new OutboxDataSources.Entry(e.getKey(), e.getValue(), OutboxMigrations.migrate(e.getKey(), e.getValue(), tables)));
        }
        return new OutboxDataSources(entries);
    }

    private static Map<String, DataSource> chosen(ListableBeanFactory beans, List<String> names) {
        Map<String, DataSource> all = beans.getBeansOfType(DataSource.class);
        if (names.isEmpty()) {
            if (all.size() != 1) {
                throw new IllegalStateException("tm.outbox.data-sources is empty and there are " + all.size() + " DataSource beans "
                        + all.keySet() + ": name the ones that get an outbox");
            }
            return all;
        }
        Map<String, DataSource> chosen = new java.util.LinkedHashMap<>();
        for (String name : names) {
            DataSource ds = all.get(name);
            if (ds == null) {
                throw new IllegalStateException("tm.outbox.data-sources names '" + name + "', which is not a DataSource bean (there are "
                        + all.keySet() + ")");
            }
            chosen.put(name, ds);
        }
        return chosen;
    }

    @Bean
    Outbox outbox(OutboxDataSources sources) {
        return new Outbox(sources);
    }

    @Bean
    Inbox inbox(OutboxDataSources sources) {
        return new Inbox(sources);
    }

    @Bean
    @ConditionalOnProperty(prefix = "tm.outbox.relay", name = "enabled", havingValue = "true", matchIfMissing = true)
    OutboxRelays outboxRelays(OutboxDataSources sources, OutboxProperties properties,
                              ObjectProvider<RabbitConnectionDetails> rabbit, ObjectProvider<RelayHook> hook,
                              ObjectProvider<RelayObserver> observer) {
        CachingConnectionFactory factory = relayConnectionFactory(rabbit.getIfAvailable());
        RabbitPublisher publisher = new RabbitPublisher(factory, properties.getRelay().getConfirmTimeoutMs());
        // every RelayObserver bean hears every pass (metrics, and e.g. a benchmark's own recorder)
        List<RelayObserver> observers = observer.orderedStream().toList();
        RelayObserver all = new RelayObserver() {
            @Override
            public void sent(String dataSource, long lagMillis) {
                observers.forEach(o -> o.sent(dataSource, lagMillis));
            }

            @Override
            public void failed(String dataSource, Exception e) {
                observers.forEach(o -> o.failed(dataSource, e));
            }
        };
        return new OutboxRelays(sources, publisher, properties.getRelay(), hook.getIfAvailable(() -> RelayHook.NONE), all,
                factory::destroy);
    }

    static CachingConnectionFactory relayConnectionFactory(RabbitConnectionDetails details) {
        CachingConnectionFactory f = new CachingConnectionFactory();
        if (details != null) {
            f.setAddresses(details.getAddresses().stream().map(a -> a.host() + ":" + a.port()).collect(Collectors.joining(",")));
            f.setUsername(details.getUsername());
            f.setPassword(details.getPassword());
            if (details.getVirtualHost() != null) {
                f.setVirtualHost(details.getVirtualHost());
            }
        }
        f.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.SIMPLE);
        f.setPublisherReturns(true);
        f.setConnectionNameStrategy(cf -> "xatm-outbox-relay");
        f.setConnectionTimeout(5000);
        return f;
    }

    // Nested configurations are processed before the outer bean methods, so "is there a relay" and
    // "is there a registry" are asked when the beans are created, not with @ConditionalOnBean.
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class Health {
        @Bean
        OutboxHealthIndicator outboxHealthIndicator(ObjectProvider<OutboxRelays> relays) {
            return new OutboxHealthIndicator(relays);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {
        @Bean
        MicrometerRelayObserver micrometerRelayObserver(ObjectProvider<MeterRegistry> registry) {
            return new MicrometerRelayObserver(registry);
        }

        /** xatm.outbox.pending per data source, registered once every singleton (the registry, the relays) exists. */
        @Bean
        SmartInitializingSingleton outboxPendingGauges(ObjectProvider<MeterRegistry> registry, ObjectProvider<OutboxRelays> relays,
                                                       OutboxDataSources sources) {
            return () -> {
                MeterRegistry r = registry.getIfAvailable();
                if (r == null) {
                    return;
                }
                for (String name : sources.names()) {
                    Gauge.builder("xatm.outbox.pending", relays, p -> pending(p.getIfAvailable(), name))
                            .description("unsent outbox rows at the relay's last count").tag("data.source", name).register(r);
                }
            };
        }

        private static double pending(OutboxRelays relays, String name) {
            if (relays == null) {
                return Double.NaN;
            }
            for (RelayStatus s : relays.statuses()) {
                if (s.dataSource().equals(name) && s.pending() >= 0) {
                    return s.pending();
                }
            }
            return Double.NaN;
        }
    }
}
