package dev.xatm.client.it.embedded;

import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Restart of an embedded-mode application on the same log directory finishes a durable decision.
 * A child JVM commits a global transaction across two H2 file databases and halts at the worst
 * moment: the commit decision is durable in its embedded coordinator's log and both branches are
 * prepared, but no COMMIT went out. The application started again on the same log and databases
 * (a new agent id) must commit both branches: its coordinator restores the decision, its agent finds
 * the prepared branches with XA RECOVER and inquires. The crash point is a wrapper of the log, so
 * the test is deterministic.
 */
class EmbeddedRestartIT {
    @TempDir
    Path tmp;

    @Test
    void aDurableDecisionIsFinishedAfterTheApplicationRestarts() throws Exception {
        H2File a = new H2File(tmp, "a");
        H2File b = new H2File(tmp, "b");
        a.createTable(EmbeddedH2IT.TABLE);
        b.createTable(EmbeddedH2IT.TABLE);
        Path logDir = tmp.resolve("tm-data");
        Map<String, Object> p = EmbeddedH2IT.embeddedProperties(logDir, a, b);

        p.put("tm.client.agent-id", "crashing-instance");
        p.put("it.first-id", "41");
        p.put("it.second-id", "42");
        Path out = tmp.resolve("child-output.txt");
        Process child = dev.xatm.client.it.ChildJvm.start(EmbeddedCrashChild.class, p, out);
        try {
            assertThat(child.waitFor(90, TimeUnit.SECONDS)).as("child finished, see %s", out).isTrue();
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(out);
        assertThat(child.exitValue()).as("halted right after the decision was durable; output:%n%s", output)
                .isEqualTo(CrashAfterDecision.HALT_STATUS);
        String gtrid = output.lines().filter(l -> l.startsWith("DURABLE ")).findFirst().orElseThrow().substring(8);

        // the crash left both branches prepared and nothing visible
        assertThat(a.prepared()).extracting(TmXid::gtrid).containsExactly(gtrid);
        assertThat(b.prepared()).extracting(TmXid::gtrid).containsExactly(gtrid);
        assertThat(a.ids(EmbeddedH2IT.TABLE)).doesNotContain(41L);
        assertThat(b.ids(EmbeddedH2IT.TABLE)).doesNotContain(42L);

        p.put("tm.client.agent-id", "restarted-instance");
        try (ConfigurableApplicationContext restarted = EmbeddedH2IT.start(p)) {
            await("the restarted application committed both branches").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(a.ids(EmbeddedH2IT.TABLE)).contains(41L);
                assertThat(b.ids(EmbeddedH2IT.TABLE)).contains(42L);
                assertThat(a.prepared()).isEmpty();
                assertThat(b.prepared()).isEmpty();
            });
            assertThat(restarted.getBean(dev.xatm.client.coordinator.CoordinatorAccess.class).status(gtrid))
                    .as("the coordinator finished it").isEqualTo(dev.xatm.client.coordinator.TxnStatus.FINISHED_COMMITTED);
        }
    }
}
