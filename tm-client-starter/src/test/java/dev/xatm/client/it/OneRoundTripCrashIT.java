package dev.xatm.client.it;

import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The one-round-trip commit's worst moment, with real processes: the application dies (halts, like
 * kill -9) right after tm-server answered COMMITTED, while both of its branches are prepared and
 * nobody has committed them. The decision is in tm-server's log; when the application starts again,
 * its agent finds the prepared branches with XA RECOVER, inquires, and commits both.
 */
class OneRoundTripCrashIT extends ItSupport {
    @Test
    void anApplicationKilledAfterTheDecisionCommitsItsBranchesWhenItComesBack() throws Exception {
        long a = newId();
        long b = newId();
        Map<String, Object> p = baseProperties("shop1rt");
        withPg(p);
        withMaria(p);
        Path out = Files.createTempFile("one-round-trip-child", ".txt");
        p.put("it.first-id", a);
        p.put("it.second-id", b);
        Process child = ChildJvm.start(OneRoundTripCrashChild.class, p, out);
        p.remove("it.first-id");
        p.remove("it.second-id");
        try {
            assertThat(child.waitFor(90, TimeUnit.SECONDS)).as("child finished, see %s", out).isTrue();
        } finally {
            child.destroyForcibly();
        }
        String output = Files.readString(out);
        assertThat(child.exitValue()).as("halted right after the COMMITTED answer; output:%n%s", output)
                .isEqualTo(OneRoundTripCrashChild.HALT_STATUS);
        String gtrid = output.lines().filter(l -> l.startsWith("DECIDED ")).findFirst().orElseThrow().substring(8);

        // decided, but nothing committed: both branches prepared, nothing visible
        assertThat(dbs.postgres().preparedBranches(prefix)).extracting(TmXid::gtrid).containsExactly(gtrid);
        assertThat(dbs.mariadb().preparedBranches(prefix)).extracting(TmXid::gtrid).containsExactly(gtrid);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);

        ConfigurableApplicationContext restarted = startApp(p);
        await("the restarted application committed both branches").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(dbs.postgres().ids(table)).contains(a, a + 1_000_000);
            assertThat(dbs.mariadb().ids(table)).contains(b);
            assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
            assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        });
        await("the coordinator finished it").atMost(Duration.ofSeconds(10)).until(() ->
                restarted.getBean(dev.xatm.client.coordinator.CoordinatorAccess.class).status(gtrid)
                        == dev.xatm.client.coordinator.TxnStatus.FINISHED_COMMITTED);
    }
}
