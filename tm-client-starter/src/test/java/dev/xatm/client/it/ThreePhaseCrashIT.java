package dev.xatm.client.it;

import dev.xatm.client.TmSystemException;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * 3PC's point: the coordinator dies after every branch acknowledged PRE_COMMIT and before its COMMIT
 * record (tm.server.crash-point=before-decision-log halts it there), and the participants do not
 * block. The application's agent commits both branches on its own when their PRE_COMMIT timer runs
 * out, while the server is still down; the restarted server re-asks, hears the agent's reports, and
 * finishes the transaction as committed.
 */
class ThreePhaseCrashIT extends ItSupport {
    static final int CRASH_STATUS = 86; // tm-coordinator's CrashSwitch.CRASH_STATUS
    ConfigurableApplicationContext app;
    Work work;

    @Override
    Map<String, String> serverProperties() {
        Map<String, String> p = super.serverProperties();
        p.put("tm.server.crash-point", "before-decision-log");
        p.put("tm.server.three-phase.pre-commit-timeout-ms", "1000");
        p.put("tm.server.three-phase.participant-pre-commit-timeout-ms", "3000");
        return p;
    }

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties("shop3pccrash");
        withPg(p);
        withMaria(p);
        p.put("tm.client.reconnect-backoff-max-ms", "1000");
        app = startApp(p);
        work = app.getBean(Work.class);
    }

    @Test
    void participantsCommitOnTheirOwnWhileTheCoordinatorIsDown() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBothThreePhase(a, b)).isInstanceOf(TmSystemException.class)
                .hasMessageContaining("unknown");
        String gtrid = work.lastThreePhase();
        assertThat(server.awaitExit(Duration.ofSeconds(30))).as("halted at its crash point").isEqualTo(CRASH_STATUS);

        // 3 s after PRE_COMMIT, with no decision, the agent commits both on its own: no coordinator needed
        await("both branches committed by their participant").atMost(Duration.ofSeconds(20))
                .until(() -> dbs.postgres().ids(table).contains(a) && dbs.mariadb().ids(table).contains(b));
        assertThat(server.isAlive()).as("still down while the participants decided").isFalse();
        assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
        assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        MeterRegistry registry = app.getBean(MeterRegistry.class);
        assertThat(registry.find("xatm.client.participant.decisions").tag("outcome", "commit").counter().count()).isEqualTo(2);

        server.restart(Map.of("tm.server.crash-point", ""));
        AdminApi admin = new AdminApi(server);
        await("the restarted coordinator reconciles " + gtrid).atMost(CONVERGE)
                .until(() -> AdminApi.field(admin.transaction(gtrid), "$.status").equals("FINISHED_COMMITTED"));
        String tx = admin.transaction(gtrid);
        assertThat(AdminApi.field(tx, "$.protocol")).isEqualTo("3PC");
        List<String> kinds = AdminApi.historyKinds(tx);
        assertThat(kinds).as("history of %s", tx).contains("PARTICIPANT_DECIDED");
        assertThat(kinds.stream().filter("PARTICIPANT_DECIDED"::equals).count()).as("one per branch: %s", tx).isEqualTo(2);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);
    }
}
