package dev.xatm.client.it;

import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.Test;
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
 * our format id and prefix; the coordinator never heard of their transaction. A starting
 * application's agent finds them with XA RECOVER, inquires, and applies the coordinator's answer
 * (presumed abort: rollback). A foreign xid (other format id) is left alone.
 */
class RecoveryIT extends ItSupport {
    @Test
    void orphanedPreparedBranchesAreRolledBackAtStartUp() throws Exception {
        long a = newId();
        long b = newId();
        TmXid pgXid = new TmXid(prefix + ":orphan.1", "b1.crashed");
        TmXid mariaXid = new TmXid(prefix + ":orphan.1", "b2.crashed");
        try (Connection c = dbs.postgres().open()) {
            XAResource xa = new PGXAConnection(c.unwrap(BaseConnection.class)).getXAResource();
            xa.start(pgXid, XAResource.TMNOFLAGS);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + a + ", 'orphan')");
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
                s.executeUpdate("INSERT INTO " + table + " (id, note) VALUES (" + b + ", 'orphan')");
            }
            xa.end(mariaXid, XAResource.TMSUCCESS);
            xa.prepare(mariaXid);
        } // the session ends: the prepared branch survives it (XA-FACTS §0)
        assertThat(dbs.postgres().preparedBranches(prefix)).containsExactly(pgXid);
        await().atMost(CONVERGE).until(() -> dbs.mariadb().preparedBranches(prefix).contains(mariaXid));

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
}
