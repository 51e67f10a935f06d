package dev.xatm.client.it.embedded;

import dev.xatm.protocol.ClusterId;
import dev.xatm.core.LogRecord;
import dev.xatm.coordinator.log.TxnLog;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.Optional;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Test-only crash point for {@link EmbeddedCrashChild}: wraps the embedded coordinator's log so that
 * the JVM halts (no shutdown hooks, like a kill -9) the moment a commit decision is durable — after
 * every branch voted YES and is prepared in its database, before any COMMIT is sent. It prints
 * {@code DURABLE <gtrid>} first, so the test knows which transaction the restart must finish.
 */
@Configuration(proxyBeanMethods = false)
class CrashAfterDecision {
    static final int HALT_STATUS = 77;

    @Bean
    static BeanPostProcessor crashAfterDecisionLog() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                return bean instanceof TxnLog log ? new Crashing(log) : bean;
            }
        };
    }

    private record Crashing(TxnLog delegate) implements TxnLog {
        @Override
        public ClusterId clusterId(Optional<ClusterId> configured) {
            return delegate.clusterId(configured);
        }

        @Override
        public List<LogRecord> open() {
            return delegate.open();
        }

        @Override
        public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
            CompletableFuture<Void> written = delegate.append(records, sync);
            for (LogRecord r : records) {
                if (r instanceof LogRecord.Decision decision) {
                    // the delegate completes its future only once the record is fsynced
                    return written.thenApply(v -> {
                        System.out.println("DURABLE " + decision.gtrid());
                        System.out.flush();
                        Runtime.getRuntime().halt(HALT_STATUS);
                        return v;
                    });
                }
            }
            return written;
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
