package dev.xatm.client.it;

import dev.xatm.client.coordinator.TxnStatus;

import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.coordinator.PreparedBranch;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The process {@link OneRoundTripCrashIT} crashes: an application that commits one global
 * transaction across PostgreSQL and MariaDB in one round trip and halts (no shutdown hooks, like a
 * kill -9) the moment the coordinator answers COMMITTED, before it commits its own prepared branches.
 * It prints {@code DECIDED <gtrid>} first. Arguments: {@code name=value} properties. Exit status 3
 * means it got through without the crash, which the test treats as a failure.
 */
public final class OneRoundTripCrashChild {
    static final int HALT_STATUS = 78;

    public static void main(String[] args) {
        Map<String, Object> p = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            p.put(a.substring(0, eq), a.substring(eq + 1));
        }
        ConfigurableApplicationContext app = new SpringApplicationBuilder(ItApp.class, CrashAfterCommitAnswer.class)
                .web(WebApplicationType.NONE).properties(p).run();
        dev.xatm.client.agent.Agent agent = app.getBean(dev.xatm.client.agent.Agent.class);
        long until = System.currentTimeMillis() + 30_000;
        while (!agent.isConnected() && System.currentTimeMillis() < until) {
            Thread.onSpinWait();
        }
        app.getBean(Work.class).writeBoth(Long.parseLong((String) p.get("it.first-id")), Long.parseLong((String) p.get("it.second-id")));
        System.out.println("COMMITTED WITHOUT CRASH");
        System.exit(3);
    }

    /** Wraps the starter's CoordinatorAccess: halts right after a COMMITTED answer to a commit with prepared branches. */
    @Configuration(proxyBeanMethods = false)
    static class CrashAfterCommitAnswer {
        @Bean
        static BeanPostProcessor crashAfterCommitAnswer() {
            return new BeanPostProcessor() {
                @Override
                public Object postProcessAfterInitialization(Object bean, String beanName) {
                    return bean instanceof CoordinatorAccess access ? new Crashing(access) : bean;
                }
            };
        }
    }

    private record Crashing(CoordinatorAccess delegate) implements CoordinatorAccess {
        @Override
        public OutcomeReport commitPrepared(String gtrid, String name, long timeoutMillis, String agentId, List<PreparedBranch> branches) {
            OutcomeReport r = delegate.commitPrepared(gtrid, name, timeoutMillis, agentId, branches);
            if (r.outcome() == GlobalOutcome.COMMITTED) {
                System.out.println("DECIDED " + gtrid);
                System.out.flush();
                Runtime.getRuntime().halt(HALT_STATUS);
            }
            return r;
        }

        @Override
        public void begin(String gtrid, String name, long timeoutMillis, dev.xatm.client.CommitProtocol protocol) {
            delegate.begin(gtrid, name, timeoutMillis, protocol);
        }

        @Override
        public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
            delegate.registerBranch(gtrid, bqual, resourceId, agentId);
        }

        @Override
        public OutcomeReport commit(String gtrid, boolean waitForCompletion) {
            return delegate.commit(gtrid, waitForCompletion);
        }

        @Override
        public OutcomeReport rollback(String gtrid) {
            return delegate.rollback(gtrid);
        }

        @Override
        public TxnStatus status(String gtrid) {
            return delegate.status(gtrid);
        }

        @Override
        public String describe() {
            return delegate.describe();
        }
    }
}
