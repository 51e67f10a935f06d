package dev.xatm.client.agent;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.RegisterBranchRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent and enlistment against a scripted coordinator on the in-process transport, with an
 * in-memory H2 database as the resource: waiting for the agent's Welcome before registering a
 * branch, presumed abort after a NOT_FOUND answer to a YES vote, and the inbound flow-control window.
 */
class AgentTest {
    static final String GTRID = "xatm:agenttest.1.";
    AgentHarness h;
    FakeCoordinatorServer fake;
    Agent agent;
    BranchTable table;

    void start(boolean holdWelcome) throws Exception {
        h = new AgentHarness(holdWelcome, AgentListener.NONE);
        fake = h.fake;
        agent = h.agent;
        table = h.table;
    }

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        if (h != null) {
            h.close();
        }
    }

    void insertInGlobalTransaction(String gtrid, long id) throws SQLException {
        h.insert(gtrid, id);
    }

    /**
     * A broken stream makes the coordinator abort every transaction with an unprepared branch it
     * knows, so the agent rolls those back; a branch that rides on its caller's commit request is
     * unknown to the coordinator and is left alone: its transaction can still commit once the stream
     * is back.
     */
    @Test
    void aBrokenStreamRollsBackRegisteredUnpreparedBranchesOnly() throws Exception {
        start(false);
        TxScope registered = new TxScope(GTRID + "reg", true, Long.MAX_VALUE);
        GlobalTxContext.bind(registered);
        try (var c = h.ds.getConnection(); var s = c.createStatement()) {
            s.execute("INSERT INTO t (id) VALUES (901)");
        } finally {
            GlobalTxContext.bind(null);
        }
        TxScope ridingScope = new TxScope(GTRID + "ride", true, Long.MAX_VALUE, scope -> { });
        GlobalTxContext.bind(ridingScope);
        try (var c = h.ds.getConnection(); var s = c.createStatement()) {
            s.execute("INSERT INTO t (id) VALUES (902)");
        } finally {
            GlobalTxContext.bind(null);
        }
        Branch reg = table.branchesOf(GTRID + "reg").get(0);
        Branch riding = table.branchesOf(GTRID + "ride").get(0);
        assertThat(reg.isRegistered()).isTrue();
        assertThat(riding.isRegistered()).isFalse();

        fake.breakStream(false);
        await().atMost(Duration.ofSeconds(10)).until(agent::isConnected);
        // a rollback of a branch in use waits until its scope lets go: end both
        registered.end(false);
        ridingScope.end(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> reg.state() == Branch.State.ROLLED_BACK);
        Thread.sleep(200); // a parked rollback would run on an agent thread right after the release
        assertThat(riding.state()).as("left for its caller's commit").isEqualTo(Branch.State.ACTIVE);
        riding.execute(BranchCommand.ROLLBACK); // tidy up
    }

    /**
     * The coordinator refuses branches of an agent it has not welcomed. A global transaction started
     * before the Welcome arrives (right at start-up) waits for it instead of failing.
     */
    @Test
    void enlistmentWaitsForTheAgentsWelcome() throws Exception {
        start(true);
        AtomicReference<Thread> worker = new AtomicReference<>();
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            worker.set(Thread.currentThread());
            try {
                insertInGlobalTransaction(GTRID + "1", 1);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        await("enlistment waiting for the agent").atMost(Duration.ofSeconds(10))
                .until(() -> worker.get() != null && worker.get().getState() == Thread.State.TIMED_WAITING);
        assertThat(fake.registrations).as("nothing registered before the Welcome").isEmpty();
        assertThat(agent.isConnected()).isFalse();

        fake.releaseWelcome();
        done.get(10, TimeUnit.SECONDS);
        assertThat(fake.registrations).hasSize(1);
        assertThat(fake.registrations.get(0).getAgentId()).isEqualTo("agent-1");
    }

    /**
     * A registration refused while the transaction is active (an older tm-server wrote the Welcome
     * just before it recorded the stream) is retried, not failed.
     */
    @Test
    void aRefusalWhileTheTransactionIsActiveIsRetried() throws Exception {
        start(false);
        await().atMost(Duration.ofSeconds(10)).until(agent::isConnected);
        fake.refuseRegistrations.set(2);
        insertInGlobalTransaction(GTRID + "2", 2);
        assertThat(fake.registrations).hasSize(3);
        assertThat(fake.statusCalls.get()).as("asked whether the transaction is still active").isEqualTo(2);
    }

    /**
     * A YES vote for a transaction the coordinator does not know (it lost it in a restart before
     * deciding) comes back as ProtocolError NOT_FOUND. The agent asks about its prepared branch, and
     * the coordinator's ROLLBACK finishes it: nothing stays prepared in the database (presumed abort).
     */
    @Test
    void aVoteAnsweredNotFoundEndsInARollback() throws Exception {
        start(false);
        await().atMost(Duration.ofSeconds(10)).until(agent::isConnected);
        String gtrid = GTRID + "3";
        insertInGlobalTransaction(gtrid, 3);
        RegisterBranchRequest registered = fake.registrations.get(0);
        TmXid xid = new TmXid(gtrid, registered.getBqual());

        fake.command(gtrid, xid.bqual(), PhaseAction.PREPARE);
        AgentMessage vote = fake.next();
        assertThat(vote.getVote().getVote()).isEqualTo(BranchVote.YES);
        assertThat(preparedInH2()).containsExactly(xid);

        fake.error("NOT_FOUND", "branch \"" + xid.bqual() + "\" of \"" + gtrid + "\" is not known");
        AgentMessage inquiry = fake.next();
        assertThat(inquiry.hasInquiry()).as("the agent asks about its prepared branch: %s", inquiry).isTrue();
        assertThat(inquiry.getInquiry().getGtrid()).isEqualTo(gtrid);
        assertThat(inquiry.getInquiry().getBqual()).isEqualTo(xid.bqual());

        fake.command(gtrid, xid.bqual(), PhaseAction.ROLLBACK); // what tm-server answers for an unknown transaction
        AgentMessage ack = fake.next();
        assertThat(ack.getAck().getAction()).isEqualTo(PhaseAction.ROLLBACK);
        assertThat(ack.getAck().getResult()).isEqualTo(AckResult.DONE);
        assertThat(table.get(xid).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(preparedInH2()).isEmpty();
        assertThat(rows()).isZero();
    }

    /**
     * A burst of commands is not thinned out by flow control: on the in-process transport a stream is
     * "ready" only while the client asked for more messages, and the coordinator drops (and later
     * resends) a command for a stream that is not ready.
     */
    @Test
    void aBurstOfCommandsIsNotDropped() throws Exception {
        start(false);
        await().atMost(Duration.ofSeconds(10)).until(agent::isConnected);
        int n = 50;
        for (int i = 0; i < n; i++) {
            fake.command(GTRID + "burst", "b" + i, PhaseAction.PREPARE); // unknown branches: the agent votes NO
        }
        for (int i = 0; i < n; i++) {
            assertThat(fake.next().getVote().getVote()).isEqualTo(BranchVote.NO);
        }
        assertThat(fake.droppedCommands.get()).isZero();
    }

    private List<TmXid> preparedInH2() throws Exception {
        return h.preparedInH2();
    }

    private int rows() throws SQLException {
        return h.rows();
    }
}
