package dev.xatm.client.enlist;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One branch on the real databases, driven as the agent drives it: a prepared PostgreSQL branch
 * rolled back by hand answers the COMMIT with a heuristic hazard (pgjdbc reports "no such prepared
 * transaction" on the preparing connection as XAER_RMERR with SQLSTATE 42704), and a locking read on
 * MariaDB keeps the branch in phase 2 with its row lock until the global commit, even with read-only
 * votes turned on for MySQL and MariaDB.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@RequiresDatabases
class BranchOnRealDatabasesIT {
    TestDatabases dbs;
    final String table = "heur_" + Unique.suffix();
    final String gtridPrefix = "xatm:heurit" + Unique.suffix() + ".";
    int scopes;
    HikariDataSource pool;

    @BeforeAll
    void databases() throws SQLException {
        dbs = TestDatabases.require();
        dbs.createTable(table);
    }

    @AfterEach
    void closePool() {
        GlobalTxContext.bind(null);
        if (pool != null) {
            pool.close();
        }
    }

    @AfterAll
    void cleanUp() throws SQLException {
        dbs.cleanUp(gtridPrefix, table);
    }

    /** A branch of a fresh global transaction on {@code db} after {@code sql} ran on it, its scope ended. */
    Branch branchAfter(TestDb db, String sql) throws SQLException {
        pool = new HikariDataSource();
        pool.setJdbcUrl(db.url());
        pool.setUsername(db.user());
        pool.setPassword(db.password());
        pool.setMaximumPoolSize(2);
        EnlistedResource resource = new EnlistedResource("ds", db.resourceId(), XaDialects.forUrl(db.url()), pool, null);
        BranchTable branches = new BranchTable(100);
        EnlistingDataSource ds = new EnlistingDataSource(resource, new Enlistment(new ReadOnlyVoteTest.NoCoordinator(), "agent-1",
                new BqualMinter("tag"), branches, Enlistment.AgentGate.OPEN, 5_000, true, true));
        String gtrid = gtridPrefix + (++scopes);
        TxScope scope = new TxScope(gtrid, true, Long.MAX_VALUE);
        GlobalTxContext.bind(scope);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } finally {
            GlobalTxContext.bind(null);
            scope.end(false);
        }
        return branches.branchesOf(gtrid).get(0);
    }

    @Test
    void aPreparedPostgresBranchRolledBackByHandAnswersTheCommitWithAHazard() throws Exception {
        long id = System.nanoTime();
        Branch b = branchAfter(dbs.postgres(), "INSERT INTO " + table + " (id, note) VALUES (" + id + ", 'x')");
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        // the DBA's ROLLBACK PREPARED, from another session
        var dba = dbs.postgres().openXa();
        try {
            dba.getXAResource().rollback(b.xid());
        } finally {
            dba.close();
        }

        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.HEURISTIC_HAZARD);
        assertThat(b.heuristic()).isTrue();
        assertThat(dbs.postgres().ids(table)).doesNotContain(id);
    }

    @Test
    void aLockingReadOnMariaDbKeepsItsLockUntilTheGlobalCommit() throws Exception {
        long id = System.nanoTime();
        dbs.mariadb().exec("INSERT INTO " + table + " (id, note) VALUES (" + id + ", 'x')");
        Branch b = branchAfter(dbs.mariadb(), "SELECT id FROM " + table + " WHERE id = " + id + " FOR UPDATE");

        assertThat(b.execute(BranchCommand.PREPARE)).as("a locking read is voted as a write").isEqualTo(BranchAnswer.VOTE_YES);
        try (Connection other = dbs.mariadb().open(); Statement s = other.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT id FROM " + table + " WHERE id = " + id + " FOR UPDATE NOWAIT").close())
                    .as("the row is still locked by the prepared branch").isInstanceOf(SQLException.class);
        }
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);
        try (Connection other = dbs.mariadb().open(); Statement s = other.createStatement()) {
            s.executeQuery("SELECT id FROM " + table + " WHERE id = " + id + " FOR UPDATE NOWAIT").close();
        }
    }
}
