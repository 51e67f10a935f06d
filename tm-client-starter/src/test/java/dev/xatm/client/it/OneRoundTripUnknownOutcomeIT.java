package dev.xatm.client.it;

import dev.xatm.client.TmSystemException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The one-round-trip commit request fails on the caller's side (here its deadline, 1 ms, always passes
 * first) while both branches are prepared and tm-server may or may not decide. The caller hears that
 * the outcome is unknown; the branches are handed to the agent, whose inquiry settles them: both
 * committed or both rolled back, and nothing left prepared (checked after every test by ItSupport).
 */
class OneRoundTripUnknownOutcomeIT extends ItSupport {
    Work work;

    @BeforeAll
    void startApp() {
        Map<String, Object> p = baseProperties("shop1rtunknown");
        withPg(p);
        withMaria(p);
        p.put("tm.client.commit-timeout-ms", "1");
        ConfigurableApplicationContext app = startApp(p);
        work = app.getBean(Work.class);
    }

    @Test
    void aFailedCommitCallLeavesNothingPrepared() throws Exception {
        long a = newId();
        long b = newId();
        assertThatThrownBy(() -> work.writeBoth(a, b)).isInstanceOf(TmSystemException.class).hasMessageContaining("unknown");
        await("settled by the agent's inquiry").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
            assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        });
        boolean pg = dbs.postgres().ids(table).contains(a);
        boolean maria = dbs.mariadb().ids(table).contains(b);
        assertThat(pg).as("atomic: both or neither (PostgreSQL %s, MariaDB %s)", pg, maria).isEqualTo(maria);
    }
}
