package dev.xatm.client.agent;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorChannel;
import dev.xatm.client.coordinator.CoordinatorChannels;
import dev.xatm.client.coordinator.GrpcCoordinatorAccess;
import dev.xatm.client.enlist.BqualMinter;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.client.enlist.Enlistment;
import dev.xatm.client.enlist.EnlistingDataSource;
import dev.xatm.client.enlist.XaDialects;
import dev.xatm.client.support.GtridMinter;
import dev.xatm.protocol.TmXid;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An agent with a link to each of several {@link FakeCoordinatorServer}s that say they are nodes of
 * one cluster (node ids 1, 2, ...; epoch 7 each), with routed coordinator access, a gtrid minter
 * that tags owners, and an in-memory H2 database (table {@code t(id)}) as the one resource. Fakes
 * announced as members are reached by their in-process name.
 */
final class ClusterHarness implements AutoCloseable {
    static final long EPOCH = 7;
    private static final AtomicInteger DBS = new AtomicInteger();

    final HikariDataSource pool;
    final List<FakeCoordinatorServer> fakes = new ArrayList<>();
    final CoordinatorChannels channels;
    final BranchTable table = new BranchTable(100);
    final Agent agent;
    final GrpcCoordinatorAccess access;
    /** As {@link #access}, with commits on the agent's stream where a fake says it takes them there. */
    final GrpcCoordinatorAccess streamAccess;
    final GtridMinter minter;
    final EnlistingDataSource ds;
    private final List<Connection> leftOpen = new ArrayList<>();

    /**
     * {@code servers} fakes, nodes 1..servers; the agent is configured with the first
     * {@code configured} of them (the others it can only learn of as members); {@code extraChannels}
     * more configured channels to fake 1 (a second address of the same server).
     */
    ClusterHarness(int servers, int configured, int extraChannels) throws Exception {
        this(servers, configured, extraChannels, true);
    }

    /** Without node ids ({@code nodeIds} false) the fakes are servers of file stores, several addresses of one service. */
    ClusterHarness(int servers, int configured, int extraChannels, boolean nodeIds) throws Exception {
        pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:h2:mem:cluster" + DBS.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
        pool.setMaximumPoolSize(6);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)");
        }
        for (int i = 1; i <= servers; i++) {
            fakes.add(nodeIds ? new FakeCoordinatorServer(false, i, EPOCH) : new FakeCoordinatorServer(false));
        }
        List<CoordinatorChannel> links = new ArrayList<>();
        for (int i = 0; i < configured; i++) {
            links.add(fakes.get(i).channel());
        }
        for (int i = 0; i < extraChannels; i++) {
            links.add(FakeCoordinatorServer.channel(fakes.get(0).name()));
        }
        channels = new CoordinatorChannels(links, FakeCoordinatorServer::channel);
        EnlistedResource resource = new EnlistedResource("h2", pool.getJdbcUrl(), XaDialects.forUrl(pool.getJdbcUrl()), pool, null);
        agent = new Agent(new AgentSettings("agent-1", "xatm", 50, 200, 2, 2_000, 100, 200), channels, table,
                () -> List.of(resource), AgentListener.NONE);
        access = new GrpcCoordinatorAccess(agent.routes(), agent.instanceSecret(), "fake cluster", 2_000, 2_000);
        streamAccess = new GrpcCoordinatorAccess(agent.routes(), agent, agent.instanceSecret(), "fake cluster", 2_000, 2_000);
        minter = new GtridMinter("xatm", "tag", agent.routes(), 2_000, true);
        Enlistment enlistment = new Enlistment(access, "agent-1", new BqualMinter("tag"), table, agent::awaitConnected, 2_000, true);
        ds = new EnlistingDataSource(resource, enlistment);
    }

    FakeCoordinatorServer node(int nodeId) {
        return fakes.get(nodeId - 1);
    }

    /** Inserts {@code id} in a registered branch of {@code gtrid} and lets go of it (not prepared). */
    TmXid insert(String gtrid, long id) throws SQLException {
        TxScope scope = new TxScope(gtrid, true, Long.MAX_VALUE);
        GlobalTxContext.bind(scope);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO t (id) VALUES (" + id + ")");
        } finally {
            GlobalTxContext.bind(null);
            scope.end(false);
        }
        return table.branchesOf(gtrid).get(0).xid();
    }

    /**
     * Prepares {@code id}'s insert as branch {@code xid} on a connection of its own, outside the
     * agent (as a previous run of the application left it): only XA RECOVER can find it.
     */
    void prepareOutsideTheAgent(TmXid xid, long id) throws Exception {
        Connection c = pool.getConnection();
        c.setAutoCommit(false);
        XAResource xa = XaDialects.forUrl(pool.getJdbcUrl()).xaResource(c);
        xa.start(xid, XAResource.TMNOFLAGS);
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO t (id) VALUES (" + id + ")");
        }
        xa.end(xid, XAResource.TMSUCCESS);
        xa.prepare(xid);
        leftOpen.add(c); // returning it to the pool would roll it back
    }

    List<TmXid> preparedInH2() throws Exception {
        try (Connection c = pool.getConnection()) {
            XAResource xa = XaDialects.forUrl(pool.getJdbcUrl()).xaResource(c);
            return Arrays.stream(xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN))
                    .map(x -> TmXid.parse(x).orElseThrow()).toList();
        }
    }

    List<Long> rows() throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM t ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        GlobalTxContext.bind(null);
        agent.close();
        channels.close();
        for (Connection c : leftOpen) {
            c.close();
        }
        for (FakeCoordinatorServer f : fakes) {
            f.close();
        }
        pool.close();
    }
}
