package dev.xatm.client.enlist;

import dev.xatm.client.coordinator.TxnStatus;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import javax.transaction.xa.XAResource;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The READ_ONLY vote on an in-memory H2 pool: a branch on which only plain queries ran
 * ends and commits itself at PREPARE and votes READ_ONLY, leaving nothing prepared and its connection
 * back in the pool; anything that may write keeps it in both phases.
 */
class ReadOnlyVoteTest {
    static int dbs;

    HikariDataSource pool;
    BranchTable table;
    EnlistedResource resource;
    int scopes;
    boolean optInOnMySql;

    @BeforeEach
    void setUp() throws SQLException {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:readonly" + (++dbs) + ";DB_CLOSE_DELAY=-1");
        pool.setMaximumPoolSize(4);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
            s.execute("INSERT INTO t VALUES (1)");
        }
        table = new BranchTable(100);
        resource = new EnlistedResource("h2ds", pool.getJdbcUrl(), XaDialects.forUrl(pool.getJdbcUrl()), pool, null);
    }

    @AfterEach
    void tearDown() {
        GlobalTxContext.bind(null);
        pool.close();
    }

    /** Runs {@code work} on the branch connection of a fresh global transaction and returns the branch, scope ended. */
    Branch branchAfter(boolean readOnlyVotes, Work work) throws SQLException {
        String gtrid = "g:" + (++scopes);
        EnlistingDataSource ds = new EnlistingDataSource(resource, new Enlistment(new NoCoordinator(), "agent-1",
                new BqualMinter("tag"), table, Enlistment.AgentGate.OPEN, 1_000, readOnlyVotes, optInOnMySql));
        TxScope scope = new TxScope(gtrid, true, Long.MAX_VALUE);
        GlobalTxContext.bind(scope);
        try (Connection c = ds.getConnection()) {
            work.run(c);
        } finally {
            GlobalTxContext.bind(null);
            scope.end(false);
        }
        return table.get(new TmXid(gtrid, bqual("b1"))); // a fresh minter per call: always its first bqual
    }

    interface Work {
        void run(Connection c) throws SQLException;
    }

    @Test
    void onlyQueriesVoteReadOnlyAndLeaveNothingPrepared() throws Exception {
        Branch b = branchAfter(true, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
                rs.next();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT id FROM t WHERE id = ?")) {
                p.setLong(1, 1);
                p.executeQuery().close();
                assertThat(p.getConnection()).as("statements hand out the branch handle").isSameAs(c);
            }
            new JdbcTemplate(new SingleConnectionDataSource(c, true)).queryForObject("SELECT COUNT(*) FROM t", Integer.class);
        });
        assertThat(b.isDirty()).isFalse();
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_READ_ONLY);
        assertThat(b.state()).isEqualTo(Branch.State.READ_ONLY);
        assertThat(b.execute(BranchCommand.PREPARE)).as("a resent PREPARE gets the same vote").isEqualTo(BranchAnswer.VOTE_READ_ONLY);
        assertThat(b.execute(BranchCommand.ROLLBACK)).as("an abort that overtook the vote: nothing to undo").isEqualTo(BranchAnswer.DONE);
        assertThat(b.isFinished()).isTrue();
        assertThat(preparedInH2()).isEmpty();
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).as("connection back in the pool").isZero();
    }

    @Test
    void anUpdateKeepsTheBranchInBothPhases() throws Exception {
        Branch b = branchAfter(true, c -> {
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT COUNT(*) FROM t").close();
                s.executeUpdate("INSERT INTO t VALUES (2)");
            }
        });
        assertThat(b.isDirty()).isTrue();
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(preparedInH2()).hasSize(1);
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);
        assertThat(count()).isEqualTo(2);
    }

    @Test
    void whatCouldWriteOrEscapeTrackingMarksTheBranchDirty() throws Exception {
        assertThat(dirtyAfter(c -> c.prepareStatement("INSERT INTO t VALUES (3)").execute())).as("execute of a write").isTrue();
        assertThat(dirtyAfter(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO t VALUES (?)")) {
                p.setLong(1, 4);
                p.addBatch();
                p.executeBatch();
            }
        })).as("batch").isTrue();
        assertThat(dirtyAfter(c -> c.createStatement().execute("SELECT 1; DELETE FROM t"))).as("two statements").isTrue();
        assertThat(dirtyAfter(c -> {
            try (CallableStatement call = c.prepareCall("SELECT COUNT(*) FROM t")) {
                call.executeQuery().close();
            }
        })).as("a call may run anything").isTrue();
        assertThat(dirtyAfter(c -> c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE)
                .executeQuery("SELECT id FROM t").close())).as("updatable result set").isTrue();
        assertThat(dirtyAfter(c -> c.unwrap(org.h2.jdbc.JdbcConnection.class))).as("the driver's connection escapes").isTrue();
        assertThat(dirtyAfter(Connection::getMetaData)).as("metadata hands out the raw connection").isTrue();
        assertThat(dirtyAfter(c -> c.createStatement().unwrap(org.h2.jdbc.JdbcStatement.class))).as("the driver's statement escapes").isTrue();
        assertThat(dirtyAfter(c -> c.createStatement().executeQuery("SELECT 1").close())).as("the control case").isFalse();
    }

    /** A locking read takes locks meant to last until the global decision: the branch is prepared and keeps them. */
    @Test
    void aLockingReadIsVotedAsAWrite() throws Exception {
        Branch b = branchAfter(true, c -> c.createStatement().executeQuery("SELECT id FROM t WHERE id = 1 FOR UPDATE").close());
        assertThat(b.isDirty()).isTrue();
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);
    }

    /**
     * On a database that cannot confirm a branch wrote nothing (MySQL, MariaDB) a SELECT may call a
     * stored function that writes: no READ_ONLY vote unless the application opted in.
     */
    @Test
    void withoutTheOptInABranchOnTheMySqlFamilyNeverVotesReadOnly() throws Exception {
        XaDialect h2 = resource.dialect();
        XaDialect textOnly = new XaDialect() {
            @Override
            public String name() {
                return "text-only";
            }

            @Override
            public XAResource xaResource(Connection pooled) throws SQLException {
                return h2.xaResource(pooled);
            }

            @Override
            public boolean preparedBranchBoundToSession() {
                return false;
            }

            @Override
            public void checkServer(Connection c, String resource) {
            }

            @Override
            public boolean readOnlyVoteNeedsOptIn() {
                return true;
            }
        };
        assertThat(XaDialects.forUrl("jdbc:mariadb://db/x").readOnlyVoteNeedsOptIn()).isTrue();
        assertThat(XaDialects.forUrl("jdbc:mysql://db/x").readOnlyVoteNeedsOptIn()).isTrue();
        assertThat(XaDialects.forUrl("jdbc:postgresql://db/x").readOnlyVoteNeedsOptIn()).isFalse();
        resource = new EnlistedResource("h2ds", pool.getJdbcUrl(), textOnly, pool, null);

        Branch b = branchAfter(true, c -> c.createStatement().executeQuery("SELECT COUNT(*) FROM t").close());
        assertThat(b.isDirty()).isFalse();
        assertThat(b.execute(BranchCommand.PREPARE)).as("no opt-in").isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);

        optInOnMySql = true;
        Branch opted = branchAfter(true, c -> c.createStatement().executeQuery("SELECT COUNT(*) FROM t").close());
        assertThat(opted.execute(BranchCommand.PREPARE)).as("opted in").isEqualTo(BranchAnswer.VOTE_READ_ONLY);
    }

    /** Whether {@code work} marked its branch dirty; the branch is rolled back so its connection goes back. */
    private boolean dirtyAfter(Work work) throws SQLException {
        Branch b = branchAfter(true, work);
        boolean dirty = b.isDirty();
        assertThat(b.execute(BranchCommand.ROLLBACK)).isEqualTo(BranchAnswer.DONE);
        return dirty;
    }

    @Test
    void switchedOffEveryBranchPrepares() throws Exception {
        Branch b = branchAfter(false, c -> c.createStatement().executeQuery("SELECT COUNT(*) FROM t").close());
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);
        assertThat(preparedInH2()).isEmpty();
    }

    private java.util.List<javax.transaction.xa.Xid> preparedInH2() throws Exception {
        try (Connection c = pool.getConnection()) {
            return java.util.List.of(resource.dialect().xaResource(c).recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN));
        }
    }

    private int count() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static final class NoCoordinator implements CoordinatorAccess {
        @Override
        public void begin(String gtrid, String name, long timeoutMillis, dev.xatm.client.CommitProtocol protocol) {
        }

        @Override
        public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
        }

        @Override
        public OutcomeReport commit(String gtrid, boolean waitForCompletion) {
            return new OutcomeReport(GlobalOutcome.COMMITTED, "");
        }

        @Override
        public OutcomeReport rollback(String gtrid) {
            return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "");
        }

        @Override
        public TxnStatus status(String gtrid) {
            return TxnStatus.ACTIVE;
        }

        @Override
        public String describe() {
            return "no coordinator";
        }
    }

    /** The bqual the minter "tag" gave as its {@code n}-th: it names this test's H2 database by its tag. */
    private String bqual(String counter) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return counter + ".tag." + BqualMinter.databaseTag(c.getCatalog());
        }
    }
}
