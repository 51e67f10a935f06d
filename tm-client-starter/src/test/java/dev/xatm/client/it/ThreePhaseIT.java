package dev.xatm.client.it;

import dev.xatm.client.GlobalRollbackException;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Three-phase commit across a PostgreSQL and a MariaDB branch, one application against a real
 * tm-server: a commit is visible in both databases and the admin API shows its three steps; a branch
 * whose session died answers NO to CAN_COMMIT, so nothing is prepared and nothing written anywhere.
 * Here the application answers CAN_COMMIT and PRE_COMMIT for its own branches (the default commit
 * path, two requests); {@link ThreePhaseStrictIT} runs the same with the coordinator asking.
 */
class ThreePhaseIT extends ItSupport {
    ConfigurableApplicationContext app;
    Work work;
    AdminApi admin;

    /** Whether the coordinator drives every step on the agent's stream (tm.client.commit-path=strict). */
    boolean strict() {
        return false;
    }

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties(strict() ? "shop3pcstrict" : "shop3pc");
        withPg(p);
        withMaria(p);
        if (strict()) {
            p.put("tm.client.commit-path", "strict");
        }
        app = startApp(p);
        work = app.getBean(Work.class);
        admin = new AdminApi(server);
    }

    @Test
    void commitsAcrossBothDatabasesInThreePhases() throws Exception {
        MeterRegistry registry = app.getBean(MeterRegistry.class);
        double before = committed(registry, "3PC");
        long a = newId();
        long b = newId();
        String gtrid = work.writeBothThreePhase(a, b);
        assertThat(dbs.postgres().ids(table)).contains(a);
        assertThat(dbs.mariadb().ids(table)).contains(b);

        // the application's own acks travel in the agent's batches, a few milliseconds after the method returned
        org.awaitility.Awaitility.await("finished").atMost(CONVERGE)
                .until(() -> AdminApi.field(admin.transaction(gtrid), "$.status").equals("FINISHED_COMMITTED"));
        String tx = admin.transaction(gtrid);
        assertThat(AdminApi.field(tx, "$.protocol")).isEqualTo("3PC");
        List<String> kinds = AdminApi.historyKinds(tx);
        List<String> details = com.jayway.jsonpath.JsonPath.read(tx, "$.history[*].detail");
        if (strict()) {
            assertThat(kinds).as("history of %s", tx).contains("CAN_COMMIT_SENT", "PRE_COMMIT_SENT");
            assertThat(kinds.indexOf("CAN_COMMIT_SENT")).isLessThan(kinds.indexOf("PRE_COMMIT_SENT"));
        } else {
            assertThat(kinds).as("history of %s", tx).contains("PRE_COMMIT_LOGGED", "PRE_COMMIT_SENT").doesNotContain("CAN_COMMIT_SENT");
            assertThat(kinds.indexOf("PRE_COMMIT_LOGGED")).isLessThan(kinds.indexOf("PRE_COMMIT_SENT"));
            assertThat(details).as("history of %s", tx).anyMatch(d -> d != null && d.contains("YES (prepared by its holder)"));
        }
        assertThat(kinds).doesNotContain("PARTICIPANT_DECIDED");
        assertThat(committed(registry, "3PC")).isEqualTo(before + 1);
    }

    /**
     * The PostgreSQL branch's backend is terminated (from another connection) before the method
     * returns: its agent answers NO to CAN_COMMIT, no PRE_COMMIT goes out, both branches roll back.
     */
    @Test
    void aBranchWhoseSessionDiedAnswersNoToCanCommit() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBothThreePhaseLosingPg(a, b, this::terminateBackend))
                .isInstanceOf(GlobalRollbackException.class);
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);

        if (!strict()) {
            // answered NO by the application itself: it rolled both back, and the coordinator never heard of it
            assertThatThrownBy(() -> admin.transaction(work.lastThreePhase())).isInstanceOf(AssertionError.class).hasMessageContaining("404");
            return;
        }
        String tx = admin.transaction(work.lastThreePhase());
        assertThat(AdminApi.field(tx, "$.protocol")).isEqualTo("3PC");
        assertThat(AdminApi.field(tx, "$.outcome")).isEqualTo("ROLLED_BACK");
        List<String> kinds = AdminApi.historyKinds(tx);
        assertThat(kinds).as("history of %s", tx).contains("CAN_COMMIT_SENT").doesNotContain("PRE_COMMIT_SENT", "PRE_COMMIT_LOGGED");
        List<String> details = com.jayway.jsonpath.JsonPath.read(tx, "$.history[*].detail");
        assertThat(details).as("history of %s", tx).anyMatch(d -> d != null && d.contains("CAN_COMMIT: NO"));
    }

    /** pg_terminate_backend only signals; waits until the backend is really gone, so CAN_COMMIT surely finds it dead. */
    private void terminateBackend(int pid) {
        try (Connection c = dbs.postgres().open(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(" + pid + ")");
            org.awaitility.Awaitility.await("backend " + pid + " gone").atMost(java.time.Duration.ofSeconds(10)).until(() -> {
                try (var rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
                    rs.next();
                    return rs.getInt(1) == 0;
                }
            });
        } catch (Exception e) {
            throw new IllegalStateException("could not terminate backend " + pid, e);
        }
    }

    static double committed(MeterRegistry r, String protocol) {
        var c = r.find("xatm.client.transactions").tag("outcome", "committed").tag("protocol", protocol).counter();
        return c == null ? 0 : c.count();
    }
}
