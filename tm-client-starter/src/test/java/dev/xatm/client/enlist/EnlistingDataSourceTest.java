package dev.xatm.client.enlist;

import dev.xatm.client.coordinator.TxnStatus;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The wrapper on an in-memory H2 pool (H2's own XA classes, no server needed): a pure pass-through
 * outside a global transaction, one branch per (transaction, data source) inside one, local
 * commit/rollback/close semantics, and the connection back in the pool when the branch ends.
 */
class EnlistingDataSourceTest {
    static int dbs;

    final List<String> registered = new ArrayList<>();
    final List<String> parked = new ArrayList<>();
    HikariDataSource pool;
    BranchTable table;
    EnlistingDataSource ds;

    @BeforeEach
    void setUp() throws SQLException {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:enlist" + (++dbs) + ";DB_CLOSE_DELAY=-1");
        pool.setMaximumPoolSize(4);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
        }
        table = new BranchTable(100);
        table.onParkedCommand((b, c) -> parked.add(c + " " + b.execute(c)));
        EnlistedResource r = new EnlistedResource("h2ds", pool.getJdbcUrl(), XaDialects.forUrl(pool.getJdbcUrl()), pool, null);
        ds = new EnlistingDataSource(r, new Enlistment(new Recording(), "agent-1", new BqualMinter("tag"), table));
    }

    @AfterEach
    void tearDown() {
        GlobalTxContext.bind(null);
        pool.close();
    }

    @Test
    void outsideAGlobalTransactionItIsThePool() throws SQLException {
        try (Connection c = ds.getConnection()) {
            assertThat(Proxy.isProxyClass(c.getClass())).isFalse();
            assertThat(c.getClass().getName()).contains("Hikari");
            assertThat(c.getAutoCommit()).isTrue();
            insert(c, 1);
        }
        assertThat(count()).isEqualTo(1);
        assertThat(registered).isEmpty();
        assertThat(ds.unwrap(HikariDataSource.class)).isSameAs(pool);
    }

    @Test
    void oneBranchPerTransactionAndDataSourceWithLocalBoundariesNeutralised() throws Exception {
        TxScope scope = bind("g:1");
        Connection first = ds.getConnection();
        assertThat(first.getAutoCommit()).isFalse();
        insert(first, 1);
        first.commit(); // no-op inside the branch
        first.setAutoCommit(true); // ignored
        Object physical = first.unwrap(org.h2.jdbc.JdbcConnection.class);
        first.close();
        assertThat(first.isClosed()).isTrue();
        Connection second = ds.getConnection();
        insert(second, 2);
        assertThat(second.unwrap(org.h2.jdbc.JdbcConnection.class)).isSameAs(physical);
        second.close();
        assertThat(registered).hasSize(1).first().asString().startsWith("g:1 b1.tag");
        assertThat(count()).as("nothing visible before the global commit").isZero();
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).as("the branch keeps its connection").isEqualTo(1);

        GlobalTxContext.bind(null);
        scope.end(false);
        Branch b = table.get(new TmXid("g:1", bqual("b1")));
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(b.execute(BranchCommand.PREPARE)).as("idempotent").isEqualTo(BranchAnswer.VOTE_YES);
        assertThat(b.execute(BranchCommand.COMMIT)).isEqualTo(BranchAnswer.DONE);
        assertThat(b.execute(BranchCommand.COMMIT)).as("idempotent").isEqualTo(BranchAnswer.DONE);
        assertThat(count()).isEqualTo(2);
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).as("connection back in the pool").isZero();
    }

    @Test
    void localRollbackDoomsTheBranchAndTheScope() throws Exception {
        TxScope scope = bind("g:2");
        try (Connection c = ds.getConnection()) {
            insert(c, 1);
            c.rollback();
        }
        assertThat(scope.isRollbackOnly()).isTrue();
        GlobalTxContext.bind(null);
        scope.end(true);
        Branch b = table.get(new TmXid("g:2", bqual("b1")));
        assertThat(b.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);
        assertThat(b.execute(BranchCommand.ROLLBACK)).isEqualTo(BranchAnswer.DONE);
        assertThat(count()).isZero();
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).isZero();
    }

    @Test
    void onePhaseCommit() throws Exception {
        TxScope scope = bind("g:3");
        try (Connection c = ds.getConnection()) {
            insert(c, 7);
        }
        GlobalTxContext.bind(null);
        scope.end(false);
        assertThat(table.get(new TmXid("g:3", bqual("b1"))).execute(BranchCommand.COMMIT_ONE_PHASE)).isEqualTo(BranchAnswer.DONE);
        assertThat(count()).isEqualTo(1);
    }

    /** A rollback that arrives while the business code still uses the branch waits for it, then runs. */
    @Test
    void aRollbackWhileInUseIsParkedUntilTheScopeEnds() throws Exception {
        TxScope scope = bind("g:4");
        Connection c = ds.getConnection();
        insert(c, 1);
        Branch b = table.get(new TmXid("g:4", bqual("b1")));
        assertThat(b.execute(BranchCommand.ROLLBACK)).isEqualTo(BranchAnswer.NONE);
        assertThatThrownBy(c::createStatement).hasMessageContaining("rolled back by the coordinator");
        assertThat(parked).isEmpty();
        GlobalTxContext.bind(null);
        scope.end(false);
        assertThat(parked).containsExactly("ROLLBACK DONE");
        assertThat(count()).isZero();
    }

    /**
     * The agent's stream broke: the coordinator aborts every transaction with an unprepared branch
     * here and will never say so. Unprepared branches are rolled back (idle ones at once, their
     * connection back in the pool and their locks gone; one in use when the business code lets go);
     * prepared ones are left for the Inquiry on reconnect.
     */
    @Test
    void unpreparedBranchesAreRolledBackWhenAbandonedPreparedOnesAreNot() throws Exception {
        TxScope idle = bind("g:6");
        try (Connection c = ds.getConnection()) {
            insert(c, 1);
        }
        GlobalTxContext.bind(null);
        idle.end(false);
        TxScope prepared = bind("g:7");
        try (Connection c = ds.getConnection()) {
            insert(c, 2);
        }
        GlobalTxContext.bind(null);
        prepared.end(false);
        Branch p = table.get(new TmXid("g:7", bqual("b2"))); // bquals count per instance
        assertThat(p.execute(BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        TxScope inUse = bind("g:8");
        Connection held = ds.getConnection();
        insert(held, 3);

        assertThat(table.unprepared()).extracting(b -> b.xid().gtrid()).containsExactlyInAnyOrder("g:6", "g:8");
        for (Branch b : table.unprepared()) {
            assertThat(b.abandonIfUnprepared("the stream to the coordinator broke (UNAVAILABLE)")).isTrue();
            table.settled(b);
        }
        assertThat(p.abandonIfUnprepared("test")).as("prepared: the coordinator decides").isFalse();
        assertThat(table.get(new TmXid("g:6", bqual("b1"))).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(p.state()).isEqualTo(Branch.State.PREPARED);
        // the real cause, not the coordinator: it never heard of the rollback
        assertThatThrownBy(held::createStatement).hasMessageContaining("rolled back by this service's agent: the stream to the"
                + " coordinator broke (UNAVAILABLE)").hasMessageNotContaining("by the coordinator");
        GlobalTxContext.bind(null);
        inUse.end(false);
        assertThat(parked).containsExactly("ROLLBACK DONE");
        assertThat(table.get(new TmXid("g:8", bqual("b3"))).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(p.execute(BranchCommand.ROLLBACK)).isEqualTo(BranchAnswer.DONE);
        assertThat(count()).isZero();
        assertThat(pool.getHikariPoolMXBean().getActiveConnections()).as("every connection back in the pool").isZero();
    }

    @Test
    void anUnsupportedDatabaseFailsAtFirstUseInsideAGlobalTransaction() throws SQLException {
        EnlistingDataSource other = new EnlistingDataSource(
                new EnlistedResource("legacyDs", "jdbc:derby://db:1527/x;user=u;password=secret", null, pool, null),
                new Enlistment(new Recording(), "agent-1", new BqualMinter("tag"), table));
        try (Connection c = other.getConnection()) {
            assertThat(c).isNotNull(); // outside: works as before
        }
        bind("g:5");
        assertThatThrownBy(other::getConnection).isInstanceOf(TmUsageException.class)
                .hasMessageContaining("legacyDs").hasMessageContaining("derby://db:1527/x").hasMessageNotContaining("secret");
        assertThat(registered).isEmpty();
    }

    private TxScope bind(String gtrid) {
        TxScope scope = new TxScope(gtrid, true, Long.MAX_VALUE);
        GlobalTxContext.bind(scope);
        return scope;
    }

    private static void insert(Connection c, long id) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO t VALUES (" + id + ")");
        }
    }

    private int count() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private final class Recording implements CoordinatorAccess {
        @Override
        public void begin(String gtrid, String name, long timeoutMillis, dev.xatm.client.CommitProtocol protocol) {
        }

        @Override
        public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
            registered.add(gtrid + " " + bqual + " " + resourceId + " " + agentId);
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
            return TxnStatus.UNKNOWN;
        }

        @Override
        public String describe() {
            return "recording";
        }
    }

    /** The bqual the minter "tag" gave as its {@code n}-th: it names this test's H2 database by its tag. */
    private String bqual(String counter) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return counter + ".tag." + BqualMinter.databaseTag(c.getCatalog());
        }
    }
}
