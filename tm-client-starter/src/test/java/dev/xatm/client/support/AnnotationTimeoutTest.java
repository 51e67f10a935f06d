package dev.xatm.client.support;

import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.autoconfigure.TmClientAutoConfiguration;
import dev.xatm.client.coordinator.CoordinatorAccess;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code @GlobalTransactional} without a timeout uses {@code tm.client.default-timeout-ms}; an
 * explicit one wins; zero or a negative other than the default marker is refused with the method's
 * name. Checked through the auto-configured advisor, against a fake coordinator that records Begin.
 */
class AnnotationTimeoutTest {
    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TmClientAutoConfiguration.class))
            .withUserConfiguration(App.class)
            .withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.auth-token=t0ken-t0ken-t0ken", "tm.client.default-timeout-ms=4321",
                    "tm.client.commit-path=strict"); // the timeout shows in the Begin call, which strict sends at once

    @Configuration(proxyBeanMethods = false)
    static class App {
        @Bean
        CoordinatorAccess fakeCoordinator() {
            return new FakeCoordinator();
        }

        @Bean
        Service service() {
            return new Service();
        }

        @Bean
        Fast fast() {
            return new Fast();
        }

        @Bean
        Slow slow() {
            return new Slow();
        }
    }

    /** Declares a method two annotated classes inherit: each call takes its own class's annotation. */
    static class Shared {
        public void work() {
        }
    }

    @GlobalTransactional(timeoutMs = 1500)
    static class Fast extends Shared {
    }

    @GlobalTransactional(timeoutMs = 2500)
    static class Slow extends Shared {
    }

    static class Service {
        @GlobalTransactional
        public void withoutTimeout() {
        }

        @GlobalTransactional(timeoutMs = 1500)
        public void withTimeout() {
        }

        @GlobalTransactional(timeoutMs = 0)
        public void withZero() {
        }
    }

    @Test
    void theAnnotationDefaultIsTheConfiguredDefault() {
        runner.run(ctx -> {
            ctx.getBean(Service.class).withoutTimeout();
            assertThat(((FakeCoordinator) ctx.getBean(CoordinatorAccess.class)).calls).first().asString().endsWith(" 4321");
        });
    }

    @Test
    void anExplicitTimeoutWins() {
        runner.run(ctx -> {
            ctx.getBean(Service.class).withTimeout();
            assertThat(((FakeCoordinator) ctx.getBean(CoordinatorAccess.class)).calls).first().asString().endsWith(" 1500");
        });
    }

    @Test
    void zeroIsRefusedNamingTheMethod() {
        runner.run(ctx -> {
            assertThatThrownBy(() -> ctx.getBean(Service.class).withZero()).isInstanceOf(TmUsageException.class)
                    .hasMessageContaining("Service.withZero").hasMessageContaining("tm.client.default-timeout-ms");
            assertThat(((FakeCoordinator) ctx.getBean(CoordinatorAccess.class)).calls).isEmpty();
        });
    }

    @Test
    void anInheritedMethodTakesTheAnnotationOfTheClassItIsCalledOn() {
        runner.run(ctx -> {
            ctx.getBean(Fast.class).work();
            ctx.getBean(Slow.class).work();
            ctx.getBean(Fast.class).work();
            assertThat(((FakeCoordinator) ctx.getBean(CoordinatorAccess.class)).calls).filteredOn(c -> c.startsWith("begin"))
                    .extracting(c -> c.substring(c.lastIndexOf(' ') + 1)).containsExactly("1500", "2500", "1500");
        });
    }
}
