package dev.xatm.server.it;

import dev.xatm.testkit.RequiresDatabases;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.testkit.TestDatabases;
import dev.xatm.testkit.TestDb;
import dev.xatm.testkit.Unique;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The test agent's XA mechanics against the real databases, without a server: commands are handed
 * to {@link TestAgent#handle} directly. The server ITs rely on this agent behaving exactly as the
 * agent contract says, so the contract is checked here first.
 */
@RequiresDatabases
class AgentXaMechanicsIT {
    private static final Duration T = Duration.ofSeconds(30);

    private TestDatabases dbs;
    private String prefix;
    private String table;
    private final List<TestAgent> agents = new ArrayList<>();

    @BeforeEach
    void setUp() throws SQLException {
        dbs = TestDatabases.require();
        String unique = Unique.suffix();
        prefix = "ag-" + unique;
        table = "it_agent_" + unique;
        dbs.createTable(table);
    }

    @AfterEach
    void tearDown() throws SQLException {
        for (TestAgent a : agents) {
            a.close();
        }
        if (dbs == null) {
            return; // skipped
        }
        dbs.cleanUp(prefix, table);
    }

    /** An agent that is never started: nothing listens at port 1, and nothing is dialled. */
    private TestAgent agent(String id) {
        TestAgent a = new TestAgent(id, "127.0.0.1:1", "unused", prefix, dbs.both());
        agents.add(a);
        return a;
    }

    private static PhaseCommand cmd(TmXid xid, PhaseAction action) {
        return PhaseCommand.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(action).build();
    }

    private static BranchVote vote(Optional<AgentMessage> m) {
        assertThat(m).isPresent();
        assertThat(m.get().hasVote()).isTrue();
        return m.get().getVote().getVote();
    }

    private static AckResult ack(Optional<AgentMessage> m) {
        assertThat(m).isPresent();
        assertThat(m.get().hasAck()).isTrue();
        return m.get().getAck().getResult();
    }

    @Test
    void prepareThenCommitOnBothDatabasesIsIdempotent() throws Exception {
        TestAgent a = agent("a1");
        long id = 1;
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = a.begin(db, prefix + "-1", db.kind().name().toLowerCase());
            b.insert(table, id++, "x");
            assertThat(vote(a.handle(cmd(b.xid(), PhaseAction.PREPARE), T))).isEqualTo(BranchVote.YES);
            assertThat(db.preparedBranches(prefix)).containsExactly(b.xid());
            assertThat(vote(a.handle(cmd(b.xid(), PhaseAction.PREPARE), T))).as("PREPARE resent").isEqualTo(BranchVote.YES);
            assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.COMMIT), T))).isEqualTo(AckResult.DONE);
            assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.COMMIT), T))).as("COMMIT resent").isEqualTo(AckResult.DONE);
            assertThat(db.preparedBranches(prefix)).isEmpty();
            assertThat(db.ids(table)).containsExactly(id - 1);
            assertThat(b.state()).isEqualTo(TestAgent.BranchState.COMMITTED);
        }
        assertThat(a.violations()).isEmpty();
    }

    @Test
    void voteNoRollsTheBranchBackAndRollbackOfUnknownIsDone() throws Exception {
        TestAgent a = agent("a2");
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = a.begin(db, prefix + "-2", db.kind().name().toLowerCase());
            b.insert(table, 7, "x");
            a.voteNo(b.xid());
            assertThat(vote(a.handle(cmd(b.xid(), PhaseAction.PREPARE), T))).isEqualTo(BranchVote.NO);
            assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.ROLLBACK), T))).isEqualTo(AckResult.DONE);
            assertThat(db.preparedBranches(prefix)).isEmpty();
            assertThat(db.rowIsFree(table, 7)).isTrue();
        }
        TmXid never = new TmXid(prefix + "-never", "b");
        assertThat(ack(a.handle(cmd(never, PhaseAction.ROLLBACK), T))).as("XAER_NOTA on rollback is done").isEqualTo(AckResult.DONE);
        assertThat(vote(a.handle(cmd(never, PhaseAction.PREPARE), T))).as("PREPARE of an unknown branch").isEqualTo(BranchVote.NO);
        assertThat(a.violations()).isEmpty();
    }

    @Test
    void onePhaseCommitAndItsResend() throws Exception {
        TestAgent a = agent("a3");
        long id = 1;
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = a.begin(db, prefix + "-3" + db.kind().ordinal(), "only");
            b.insert(table, id++, "x");
            assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.COMMIT_ONE_PHASE), T))).isEqualTo(AckResult.DONE);
            assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.COMMIT_ONE_PHASE), T))).isEqualTo(AckResult.DONE);
            assertThat(db.ids(table)).contains(id - 1);
            assertThat(db.preparedBranches(prefix)).isEmpty();
        }
        assertThat(a.violations()).isEmpty();
    }

    /**
     * A new agent instance (the old one crashed after PREPARE) knows nothing in memory: COMMIT goes by
     * xid on a fresh connection. MariaDB allows that only once the preparing session is gone, which
     * the crash ensured.
     */
    @Test
    void commitAfterAgentCrashGoesByXidOnAFreshConnection() throws Exception {
        TestAgent first = agent("a4");
        List<TmXid> xids = new ArrayList<>();
        long id = 1;
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = first.begin(db, prefix + "-4", db.kind().name().toLowerCase());
            b.insert(table, id++, "x");
            assertThat(vote(first.handle(cmd(b.xid(), PhaseAction.PREPARE), T))).isEqualTo(BranchVote.YES);
            xids.add(b.xid());
        }
        first.crash();
        for (TestDb db : dbs.both()) {
            assertThat(db.preparedBranches(prefix)).as("prepared branches survive the agent's death").hasSize(1);
        }
        TestAgent second = agent("a4");
        for (TmXid xid : xids) {
            assertThat(ack(second.handle(cmd(xid, PhaseAction.COMMIT), T))).isEqualTo(AckResult.DONE);
        }
        for (TestDb db : dbs.both()) {
            assertThat(db.preparedBranches(prefix)).isEmpty();
            assertThat(db.ids(table)).hasSize(1);
        }
    }

    /**
     * The database fact the agent's "commit on the preparing connection" rule rests on: MariaDB refuses
     * XA COMMIT from another session while the preparing one is open (XAER_NOTA although XA RECOVER
     * lists it), PostgreSQL does not mind.
     */
    @Test
    void mariaDbBindsAPreparedBranchToItsSession() throws Exception {
        TestAgent a = agent("a5");
        TestAgent.Branch b = a.begin(dbs.mariadb(), prefix + "-5", "m");
        b.insert(table, 1, "x");
        assertThat(vote(a.handle(cmd(b.xid(), PhaseAction.PREPARE), T))).isEqualTo(BranchVote.YES);
        XAConnection other = dbs.mariadb().openXa();
        try {
            assertThatThrownBy(() -> other.getXAResource().commit(b.xid(), false))
                    .isInstanceOfSatisfying(XAException.class, e -> assertThat(e.errorCode).isEqualTo(XAException.XAER_NOTA));
        } finally {
            other.close();
        }
        assertThat(dbs.mariadb().preparedBranches(prefix)).containsExactly(b.xid());
        assertThat(ack(a.handle(cmd(b.xid(), PhaseAction.COMMIT), T))).isEqualTo(AckResult.DONE);
        assertThat(dbs.mariadb().ids(table)).containsExactly(1L);
    }
}
