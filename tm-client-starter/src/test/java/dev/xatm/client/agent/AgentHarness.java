package dev.xatm.client.agent;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.GrpcCoordinatorAccess;
import dev.xatm.client.enlist.BqualMinter;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.client.enlist.Enlistment;
import dev.xatm.client.enlist.EnlistingDataSource;
import dev.xatm.client.enlist.XaDialects;
import dev.xatm.protocol.TmXid;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An agent and its enlistment against a {@link FakeCoordinatorServer}, with an in-memory H2 database
 * (table {@code t(id)}) as the one resource: what the agent tests share.
 */
final class AgentHarness implements AutoCloseable {
    private static final AtomicInteger DBS = new AtomicInteger();

    final HikariDataSource pool;
    final FakeCoordinatorServer fake;
    final CoordinatorChannel channel;
    final BranchTable table;
    final Agent agent;
    final EnlistingDataSource ds;

    AgentHarness(boolean holdWelcome, AgentListener listener) throws Exception {
        this(holdWelcome, listener, null);
    }

    /** With {@code dialect} (null: H2's own) running XA for the one resource, e.g. a {@link StubResourceManager}'s. */
    AgentHarness(boolean holdWelcome, AgentListener listener, dev.xatm.client.enlist.XaDialect dialect) throws Exception {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:agent" + DBS.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
        pool.setMaximumPoolSize(4);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
        }
        fake = new FakeCoordinatorServer(holdWelcome);
        channel = fake.channel();
        table = new BranchTable(100);
        EnlistedResource resource = new EnlistedResource("h2", pool.getJdbcUrl(), dialect != null ? dialect : XaDialects.forUrl(pool.getJdbcUrl()), pool, null);
        agent = new Agent("agent-1", channel, table, () -> List.of(resource), "xatm", 50, 200, 2, listener);
        Enlistment enlistment = new Enlistment(new GrpcCoordinatorAccess(channel, agent.instanceSecret(), 5_000, 5_000), "agent-1", new BqualMinter("tag"),
                table, agent::awaitConnected, 5_000, true);
        ds = new EnlistingDataSource(resource, enlistment);
        agent.start();
    }

    /**
     * Runs {@code gtrid}'s business part on this thread: enlist, run {@code sql} (null: only enlist),
     * end the scope ({@code failed} dooms the branch). Returns the branch's xid.
     */
    TmXid work(String gtrid, String sql, boolean failed) throws SQLException {
        return work(new TxScope(gtrid, true, Long.MAX_VALUE), sql, failed);
    }

    TmXid work(TxScope scope, String sql, boolean failed) throws SQLException {
        String gtrid = scope.gtrid();
        GlobalTxContext.bind(scope);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            if (sql != null) {
                s.execute(sql);
            }
        } finally {
            GlobalTxContext.bind(null);
            scope.end(failed);
        }
        return table.branchesOf(gtrid).get(0).xid();
    }

    /** Like {@link #insert}, and returns the H2 session id of the branch's connection. */
    int insertNotingSession(String gtrid, long id) throws SQLException {
        TxScope scope = new TxScope(gtrid, true, Long.MAX_VALUE);
        GlobalTxContext.bind(scope);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO t (id) VALUES (" + id + ")");
            try (ResultSet rs = s.executeQuery("SELECT SESSION_ID()")) {
                rs.next();
                return rs.getInt(1);
            }
        } finally {
            GlobalTxContext.bind(null);
            scope.end(false);
        }
    }

    TmXid insert(String gtrid, long id) throws SQLException {
        return work(gtrid, "INSERT INTO t (id) VALUES (" + id + ")", false);
    }

    List<TmXid> preparedInH2() throws Exception {
        try (Connection c = pool.getConnection()) {
            XAResource xa = XaDialects.forUrl(pool.getJdbcUrl()).xaResource(c);
            return Arrays.stream(xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN))
                    .map(x -> TmXid.parse(x).orElseThrow()).toList();
        }
    }

    int rows() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Override
    public void close() throws Exception {
        GlobalTxContext.bind(null);
        agent.close();
        channel.close();
        fake.close();
        pool.close();
    }
}
