package dev.xatm.client.it.embedded;

import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.coordinator.transport.GrpcServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Embedded mode with no external database: the coordinator runs inside the application (file log in
 * a temporary directory) and the two data sources are H2 file databases. Commit and rollback across
 * both, the READ_ONLY vote, a global transaction right at start-up, the configured default timeout
 * for annotated methods, and no network port unless asked. After every test nothing is in doubt.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmbeddedH2IT {
    static final String TABLE = "embedded_h2";

    @TempDir
    static Path tmp;
    H2File a;
    H2File b;
    ConfigurableApplicationContext app;
    EmbeddedWork work;
    final AtomicLong ids = new AtomicLong();

    static Map<String, Object> embeddedProperties(Path logDir, H2File first, H2File second) {
        Map<String, Object> p = new HashMap<>();
        p.put("spring.application.name", "embedded-h2");
        p.put("spring.main.banner-mode", "off");
        p.put("tm.client.mode", "embedded");
        p.put("tm.client.gtrid-prefix", "emb");
        p.put("tm.server.file.dir", logDir.toString());
        p.put("it.first.url", first.url());
        p.put("it.first.user", "sa");
        p.put("it.second.url", second.url());
        p.put("it.second.user", "sa");
        p.put("it.table", TABLE);
        return p;
    }

    static ConfigurableApplicationContext start(Map<String, Object> properties, Class<?>... sources) {
        return new SpringApplicationBuilder(sources.length == 0 ? new Class<?>[] {EmbeddedApp.class} : sources)
                .web(WebApplicationType.NONE).properties(properties).run();
    }

    @BeforeAll
    void startApp() throws Exception {
        a = new H2File(tmp, "a");
        b = new H2File(tmp, "b");
        a.createTable(TABLE);
        b.createTable(TABLE);
        Map<String, Object> p = embeddedProperties(tmp.resolve("tm-data"), a, b);
        p.put("it.write-at-start-up", "true");
        p.put("tm.client.default-timeout-ms", "3000");
        // the embedded coordinator's 3PC settings are tm-server's; the participant ones travel to the agent
        p.put("tm.server.three-phase.participant-can-commit-timeout-ms", "41000");
        p.put("tm.server.three-phase.participant-pre-commit-timeout-ms", "42000");
        app = start(p);
        work = app.getBean(EmbeddedWork.class);
    }

    @AfterEach
    void nothingInDoubt() {
        await("nothing in doubt on either H2 database").atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(a.prepared()).isEmpty();
            assertThat(b.prepared()).isEmpty();
        });
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** The ApplicationRunner's global transaction ran before the agent's stream was surely welcomed, and committed. */
    @Test
    void aGlobalTransactionRightAtStartUpCommits() throws Exception {
        assertThat(a.ids(TABLE)).contains(EmbeddedApp.START_UP_ID);
        assertThat(b.ids(TABLE)).contains(EmbeddedApp.START_UP_ID);
    }

    @Test
    void commitsAcrossTwoH2FileDatabases() throws Exception {
        long x = ids.incrementAndGet();
        long y = ids.incrementAndGet();
        String gtrid = work.writeBoth(x, y);
        assertThat(gtrid).startsWith("emb:");
        assertThat(a.ids(TABLE)).contains(x);
        assertThat(b.ids(TABLE)).contains(y);
    }

    @Test
    void rollsBackBothOnAnException() throws Exception {
        long x = ids.incrementAndGet();
        long y = ids.incrementAndGet();
        assertThatThrownBy(() -> work.writeBothThenFail(x, y)).isInstanceOf(IllegalStateException.class).hasMessageContaining("business failure");
        assertThat(a.ids(TABLE)).doesNotContain(x);
        assertThat(b.ids(TABLE)).doesNotContain(y);
    }

    /**
     * protocol = THREE_PHASE runs in embedded mode too: CAN_COMMIT and PRE_COMMIT reach the agent over
     * the in-process transport, carrying the embedded coordinator's tm.server.three-phase.* timeouts.
     */
    @Test
    void commitsInThreePhases() throws Exception {
        MeterRegistry registry = app.getBean(MeterRegistry.class);
        double canCommits = agentCommands(registry, "xatm.branch.can-commit");
        double preCommits = agentCommands(registry, "xatm.branch.pre-commit");
        long x = ids.incrementAndGet();
        long y = ids.incrementAndGet();
        String gtrid = work.writeBothThreePhase(x, y);
        assertThat(a.ids(TABLE)).contains(x);
        assertThat(b.ids(TABLE)).contains(y);
        assertThat(app.getBean(BranchTable.class).branchesOf(gtrid)).hasSize(2).allSatisfy(branch -> {
            assertThat(branch.state()).isEqualTo(Branch.State.COMMITTED);
            assertThat(branch.decidedOnItsOwn()).isNull();
            // PRE_COMMIT came last and carried tm.server.three-phase.participant-pre-commit-timeout-ms
            assertThat(branch.participantTimeoutMillis()).isEqualTo(42_000);
        });
        assertThat(agentCommands(registry, "xatm.branch.can-commit")).isEqualTo(canCommits + 2);
        assertThat(agentCommands(registry, "xatm.branch.pre-commit")).isEqualTo(preCommits + 2);
        var committed = registry.find("xatm.client.transactions").tag("outcome", "committed").tag("protocol", "3PC").counter();
        assertThat(committed).isNotNull();
        assertThat(committed.count()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void rollsBackInThreePhasesOnAnException() throws Exception {
        long x = ids.incrementAndGet();
        long y = ids.incrementAndGet();
        assertThatThrownBy(() -> work.writeBothThreePhaseThenFail(x, y)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("business failure");
        assertThat(a.ids(TABLE)).doesNotContain(x);
        assertThat(b.ids(TABLE)).doesNotContain(y);
    }

    private static double agentCommands(MeterRegistry registry, String timerName) {
        var timer = registry.find(timerName).timer();
        return timer == null ? 0 : timer.count();
    }

    /** The branch that only read votes READ_ONLY (finished at prepare); the other commits. */
    @Test
    void aReadOnlyBranchVotesReadOnlyAndTheOtherCommits() throws Exception {
        long x = ids.incrementAndGet();
        String gtrid = work.writeFirstReadSecond(x);
        assertThat(a.ids(TABLE)).contains(x);
        assertThat(app.getBean(BranchTable.class).branchesOf(gtrid)).extracting(Branch::state)
                .containsExactlyInAnyOrder(Branch.State.COMMITTED, Branch.State.READ_ONLY);
    }

    /** @GlobalTransactional without timeoutMs gets tm.client.default-timeout-ms (3 s here, not the built-in 60 s). */
    @Test
    void theDefaultTimeoutPropertyAppliesToAnnotatedMethods() throws Exception {
        long x = ids.incrementAndGet();
        long y = ids.incrementAndGet();
        assertThatThrownBy(() -> work.outliveTheDefaultTimeout(x, y)).isInstanceOf(GlobalTimeoutException.class);
        assertThat(work.lateWriteFailure()).isInstanceOf(GlobalTimeoutException.class);
        assertThat(a.ids(TABLE)).doesNotContain(x);
        assertThat(b.ids(TABLE)).doesNotContain(y);
    }

    /** No network listener by default; the log and the generated token live in tm.server.file.dir. */
    @Test
    void opensNoPortUnlessAsked() {
        assertThat(app.getBeansOfType(GrpcServer.class)).isEmpty();
        assertThat(Files.exists(tmp.resolve("tm-data").resolve("auth-token"))).isTrue();
    }

    /** tm.client.embedded.listen=true adds tm-server's listener (here on a free port) for other services. */
    @Test
    void listensWhenAsked() throws Exception {
        H2File c = new H2File(tmp, "c");
        c.createTable(TABLE);
        Map<String, Object> p = embeddedProperties(tmp.resolve("tm-data-listening"), c, c);
        p.remove("it.second.url");
        p.put("tm.client.embedded.listen", "true");
        p.put("tm.server.port", "0");
        try (ConfigurableApplicationContext listening = start(p)) {
            GrpcServer server = listening.getBean(GrpcServer.class);
            assertThat(server.isRunning()).isTrue();
            assertThat(server.port()).isPositive().isNotEqualTo(7071);
        }
    }
}
