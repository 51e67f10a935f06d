package dev.xatm.client.it;

import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.mariadb.jdbc.MariaDbPoolConnection;
import org.postgresql.core.BaseConnection;
import org.postgresql.xa.PGXAConnection;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Branches left prepared by a crashed instance (here: prepared by hand, their session closed) carry
 * our format id and name our deployment's cluster id; the coordinator never heard of their
 * transaction. A starting application's agent finds them with XA RECOVER, inquires, and applies the
 * coordinator's answer (presumed abort: rollback). Branches minted before cluster ids (no cluster in
 * the gtrid) are left alone, unless tm.client.recover-legacy-xids asks for them: the upgrade path.
 */
class RecoveryIT extends ItSupport {
    @Test
    void orphanedPreparedBranchesAreRolledBackAtStartUp() throws Exception {
        long a = newId();
        long b = newId();
        String gtrid = prefix + ":" + clusterId() + "-orphan.1";
        TmXid pgXid = new TmXid(gtrid, "b1.crashed");
        TmXid mariaXid = new TmXid(gtrid, "b2.crashed");
        prepareOrphans(pgXid, a, mariaXid, b);

        Map<String, Object> p = baseProperties("restarted");
        withPg(p);
        withMaria(p);
        startApp(p);

        await("the agent resolved both orphans").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
            assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        });
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    @Test
    void branchesMintedBeforeClusterIdsAreRecoveredOnlyWhenAsked() throws Exception {
        long a = newId();
        long b = newId();
        TmXid pgXid = new TmXid(prefix + ":legacy.1", "b1.old");
        TmXid mariaXid = new TmXid(prefix + ":legacy.1", "b2.old");
        prepareOrphans(pgXid, a, mariaXid, b);

        Map<String, Object> p = baseProperties("upgraded");
        withPg(p);
        withMaria(p);
        ConfigurableApplicationContext upgraded = startApp(p);
        Thread.sleep(3_000); // the agent's XA RECOVER runs right after it connects: give it time to (not) act
        assertThat(dbs.postgres().preparedBranches(prefix)).as("left alone by default").containsExactly(pgXid);
        assertThat(dbs.mariadb().preparedBranches(prefix)).as("left alone by default").containsExactly(mariaXid);
        upgraded.close();

        Map<String, Object> asked = baseProperties("upgraded-once");
        withPg(asked);
        withMaria(asked);
        asked.put("tm.client.recover-legacy-xids", "true");
        startApp(asked);
        await("the agent asked for the old branches resolved them").atMost(CONVERGE).untilAsserted(() -> {
            assertThat(dbs.postgres().preparedBranches(prefix)).isEmpty();
            assertThat(dbs.mariadb().preparedBranches(prefix)).isEmpty();
        });
        assertThat(dbs.postgres().ids(table)).doesNotContain(a);
        assertThat(dbs.mariadb().ids(table)).doesNotContain(b);
    }

    /** Prepares a branch writing row {@code pgId} on PostgreSQL and one writing {@code mariaId} on MariaDB, then drops their sessions. */
    private void prepareOrphans(TmXid pgXid, long pgId, TmXid mariaXid, long mariaId) throws Exception {
        try (Connection c = dbs.postgres().open()) {
            XAResource xa = new PGXAConnection(c.unwrap(BaseConnection.class)).getXAResource();
            xa.start(pgXid, XAResource.TMNOFLAGS);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + pgId + ", 'orphan')");
            }
            xa.end(pgXid, XAResource.TMSUCCESS);
            xa.prepare(pgXid);
        }
        try (Connection c = dbs.mariadb().open()) {
            org.mariadb.jdbc.Connection physical = c.unwrap(org.mariadb.jdbc.Connection.class);
            XAResource xa = new MariaDbPoolConnection(physical).getXAResource();
            physical.setPoolConnection(null);
            xa.start(mariaXid, XAResource.TMNOFLAGS);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + mariaId + ", 'orphan')");
            }
            xa.end(mariaXid, XAResource.TMSUCCESS);
            xa.prepare(mariaXid);
        } // the session ends: the prepared branch survives it
        assertThat(dbs.postgres().preparedBranches(prefix)).containsExactly(pgXid);
        await().atMost(CONVERGE).until(() -> dbs.mariadb().preparedBranches(prefix).contains(mariaXid));
    }
}
