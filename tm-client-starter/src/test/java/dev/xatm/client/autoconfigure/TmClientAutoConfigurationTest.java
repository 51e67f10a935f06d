package dev.xatm.client.autoconfigure;

import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.enlist.EnlistingDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import javax.sql.DataSource;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Start-up behaviour of the auto-configuration, without a coordinator. */
class TmClientAutoConfigurationTest {
    final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class, TmClientAutoConfiguration.class))
            .withPropertyValues("spring.datasource.url=jdbc:h2:mem:autoconf;DB_CLOSE_DELAY=-1", "tm.client.auth-token=t0ken-t0ken-t0ken");

    /** Embedded mode without the coordinator library on the class path names the missing dependency. */
    @Test
    void embeddedModeWithoutTmCoordinatorFailsAtStartUpWithAClearMessage() {
        runner.withClassLoader(new FilteredClassLoader("dev.xatm.coordinator")).withPropertyValues("tm.client.mode=embedded").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("tm.client.mode=embedded needs the coordinator library")
                    .hasMessageContaining("dev.xatm:tm-coordinator");
        });
    }

    /**
     * In remote mode a tm.client.auth-token shorter than 16 characters stops the start, and the failure
     * report is the rule's one line, naming the property and not the value.
     */
    @Test
    void aShortClientTokenFailsAtStartUpWithOneClearLine() {
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.auth-token=short-tok3n").run(ctx -> {
            assertThat(ctx).hasFailed();
            Throwable failure = ctx.getStartupFailure();
            assertThat(failure).rootCause().isInstanceOf(dev.xatm.protocol.TokenRule.Violation.class)
                    .hasMessageContaining("tm.client.auth-token must be at least 16 characters").hasMessageNotContaining("short-tok3n");
            var analysis = new TokenRuleFailureAnalyzer().analyze(failure);
            assertThat(analysis.getDescription()).startsWith("tm.client.auth-token must be at least 16 characters")
                    .doesNotContain("short-tok3n").doesNotContain("\n");
        });
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.auth-token=sixteen-chars-xy")
                .run(ctx -> assertThat(ctx).hasNotFailed());
    }

    @Test
    void aMissingServerAddressFailsAtStartUp() {
        runner.run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("tm.client.server-address is not set");
        });
    }

    /** The recovery sweep's settings take Duration syntax, default to the agent's defaults, and a zero interval is refused at start-up. */
    @Test
    void recoveryIntervalsTakeDurationsAndRefuseAZeroInterval() {
        TmClientProperties defaults = new TmClientProperties();
        assertThat(defaults.getRecoveryInterval().toMillis()).isEqualTo(dev.xatm.client.agent.AgentSettings.DEFAULT_RECOVERY_INTERVAL_MILLIS);
        assertThat(defaults.getRecoverySafetyInterval().toMillis()).isEqualTo(dev.xatm.client.agent.AgentSettings.DEFAULT_RECOVERY_SAFETY_MILLIS);
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.recovery-interval=45s",
                "tm.client.recovery-safety-interval=2m").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            TmClientProperties p = ctx.getBean(TmClientProperties.class);
            assertThat(p.getRecoveryInterval()).isEqualTo(Duration.ofSeconds(45));
            assertThat(p.getRecoverySafetyInterval()).isEqualTo(Duration.ofMinutes(2));
        });
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.recovery-interval=1500").run(ctx ->
                assertThat(ctx.getBean(TmClientProperties.class).getRecoveryInterval()).isEqualTo(Duration.ofMillis(1500)));
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:1", "tm.client.recovery-interval=0s").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(ctx.getStartupFailure()).rootCause().hasMessageContaining("tm.client.recovery-interval must be a positive duration");
        });
    }

    @Test
    void disabledLeavesDataSourcesAlone() {
        runner.withPropertyValues("tm.client.enabled=false").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(DataSource.class)).isNotInstanceOf(EnlistingDataSource.class);
        });
    }

    /** Nothing listens at the address: the first global transaction fails within the call timeout, it never hangs. */
    @Test
    void anUnreachableCoordinatorFailsFast() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        // strict: the Begin call is what fails
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:" + port, "tm.client.call-timeout-ms=2000",
                "tm.client.commit-path=strict").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(DataSource.class)).isInstanceOf(EnlistingDataSource.class);
            GlobalTransactionTemplate template = ctx.getBean(GlobalTransactionTemplate.class);
            long start = System.nanoTime();
            assertThatThrownBy(() -> template.execute(GlobalTransactionDefinition.DEFAULT, s -> "never"))
                    .isInstanceOf(TmSystemException.class).hasMessageContaining("unreachable").hasMessageContaining("127.0.0.1:" + port)
                    .hasMessageNotContaining("t0ken");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        });
        // one round trip (the default): nothing is sent before the first database call, which then fails as fast
        runner.withPropertyValues("tm.client.server-address=127.0.0.1:" + port, "tm.client.call-timeout-ms=2000").run(ctx -> {
            GlobalTransactionTemplate template = ctx.getBean(GlobalTransactionTemplate.class);
            DataSource ds = ctx.getBean(DataSource.class);
            long start = System.nanoTime();
            assertThatThrownBy(() -> template.execute(GlobalTransactionDefinition.DEFAULT, s -> {
                try (var c = ds.getConnection()) {
                    return "never";
                }
            })).isInstanceOf(TmSystemException.class).hasMessageContaining("no open stream").hasMessageContaining("127.0.0.1:" + port)
                    .hasMessageNotContaining("t0ken");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        });
    }
}
