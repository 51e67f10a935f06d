package dev.xatm.client.agent;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantConfig;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.transaction.xa.XAException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The same phase commands, on the same database (a {@link StubResourceManager}) with the same
 * failures, run once by today's path ({@code Agent.runForCaller}, answered through {@link AgentMessages})
 * and once through the participant core ({@link ParticipantDriver} with {@link AgentPorts}): the wire
 * answers must be the same and the database must end the same. This is the evidence that routing the
 * agent through the core keeps its behaviour, case by case, before the switch.
 */
class CoreParityOnDatabaseTest {
    static final String NODE = "node-1";
    final StubResourceManager rm = new StubResourceManager();
    final List<AgentMessage> sent = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    AgentHarness h;
    EnlistedResource resource;
    ParticipantDriver driver;
    int n;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() { }, rm.dialect());
        resource = new EnlistedResource("h2", h.pool.getJdbcUrl(), rm.dialect(), h.pool, null);
        AgentPorts ports = new AgentPorts(h.table::get, () -> List.of(resource), id -> Optional.empty(), (server, m) -> sent.add(m),
                scheduler);
        driver = new ParticipantDriver(new Participant(ParticipantConfig.of("agent-1", List.of(resource.resourceId()), 60_000)),
                ports, System::currentTimeMillis);
        ports.onFire(driver::fired);
    }

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        scheduler.shutdownNow();
        h.close();
    }

    /** What each path answered, without the xids (the two paths run two branches). */
    private record Run(TmXid xid, List<AgentMessage> answers) {}

    private Run today(String gtrid, BranchCommand... commands) throws Exception {
        TmXid xid = h.insert(gtrid, ++n);
        Branch b = h.table.get(xid);
        List<AgentMessage> out = new ArrayList<>();
        for (BranchCommand c : commands) {
            AgentMessages.answer(xid, c, h.agent.runForCaller(b, c), new AgentListener() { }).ifPresent(m -> out.add(anonymous(m)));
        }
        return new Run(xid, out);
    }

    private Run throughTheCore(String gtrid, BranchCommand... commands) throws Exception {
        TmXid xid = h.insert(gtrid, ++n);
        BranchKey key = new BranchKey(xid.gtrid(), xid.bqual());
        driver.drive(new ParticipantEvent.Enlisted(key, resource.resourceId(), NODE));
        driver.drive(new ParticipantEvent.Released(key, true, false));
        sent.clear();
        for (BranchCommand c : commands) {
            driver.drive(new ParticipantEvent.Command(NODE, key, ParticipantWire.action(c.wire()).orElseThrow(), 0,
                    System.currentTimeMillis()));
        }
        return new Run(xid, sent.stream().map(CoreParityOnDatabaseTest::anonymous).toList());
    }

    private static AgentMessage anonymous(AgentMessage m) {
        AgentMessage.Builder b = m.toBuilder();
        if (m.hasVote()) {
            b.setVote(m.getVote().toBuilder().clearGtrid().clearBqual());
        }
        if (m.hasAck()) {
            b.setAck(m.getAck().toBuilder().clearGtrid().clearBqual());
        }
        return b.build();
    }

    @Test
    void twoPhaseCommit() throws Exception {
        Run old = today("xatm:parity.1.a", BranchCommand.PREPARE, BranchCommand.COMMIT);
        Run core = throughTheCore("xatm:parity.1.b", BranchCommand.PREPARE, BranchCommand.COMMIT);

        assertThat(core.answers()).hasSize(2).isEqualTo(old.answers());
        assertThat(rm.finished()).containsExactly("commit " + old.xid(), "commit " + core.xid());
    }

    @Test
    void rollbackOfAPreparedBranchAndItsResend() throws Exception {
        Run old = today("xatm:parity.2.a", BranchCommand.PREPARE, BranchCommand.ROLLBACK, BranchCommand.ROLLBACK);
        Run core = throughTheCore("xatm:parity.2.b", BranchCommand.PREPARE, BranchCommand.ROLLBACK, BranchCommand.ROLLBACK);

        assertThat(core.answers()).hasSize(3).isEqualTo(old.answers());
        assertThat(rm.prepared()).isEmpty();
    }

    @Test
    void threePhaseCommit() throws Exception {
        Run old = today("xatm:parity.3.a", BranchCommand.CAN_COMMIT, BranchCommand.PRE_COMMIT, BranchCommand.COMMIT);
        Run core = throughTheCore("xatm:parity.3.b", BranchCommand.CAN_COMMIT, BranchCommand.PRE_COMMIT, BranchCommand.COMMIT);

        assertThat(core.answers()).hasSize(3).isEqualTo(old.answers());
        assertThat(rm.finished()).containsExactly("commit " + old.xid(), "commit " + core.xid());
    }

    @Test
    void aCommitTheDatabaseDecidedOtherwiseIsTheSameHeuristic() throws Exception {
        TmXid oldXid = h.insert("xatm:parity.4.a", ++n);
        Branch b = h.table.get(oldXid);
        List<AgentMessage> old = new ArrayList<>();
        AgentMessages.answer(oldXid, BranchCommand.PREPARE, h.agent.runForCaller(b, BranchCommand.PREPARE), new AgentListener() { })
                .ifPresent(m -> old.add(anonymous(m)));
        rm.decideNextOnItsOwn(new XAException(XAException.XA_HEURRB));
        AgentMessages.answer(oldXid, BranchCommand.COMMIT, h.agent.runForCaller(b, BranchCommand.COMMIT), new AgentListener() { })
                .ifPresent(m -> old.add(anonymous(m)));

        TmXid xid = h.insert("xatm:parity.4.b", ++n);
        BranchKey key = new BranchKey(xid.gtrid(), xid.bqual());
        driver.drive(new ParticipantEvent.Enlisted(key, resource.resourceId(), NODE));
        driver.drive(new ParticipantEvent.Released(key, true, false));
        driver.drive(new ParticipantEvent.Command(NODE, key, dev.xatm.core.Action.PREPARE, 0, 0));
        rm.decideNextOnItsOwn(new XAException(XAException.XA_HEURRB));
        driver.drive(new ParticipantEvent.Command(NODE, key, dev.xatm.core.Action.COMMIT, 0, 0));

        assertThat(sent.stream().map(CoreParityOnDatabaseTest::anonymous).toList()).hasSize(2).isEqualTo(old);
        assertThat(old.get(1).getAck().getResult()).isEqualTo(dev.xatm.protocol.v1.AckResult.HEURISTIC_ROLLBACK);
    }

    @Test
    void aPrepareWhoseAnswerWasLostVotesNoAndTheBranchEndsRolledBackOnBothPaths() throws Exception {
        rm.failNextPrepare(new XAException(XAException.XAER_RMFAIL), StubResourceManager.Then.EXECUTES);
        Run old = today("xatm:parity.5.a", BranchCommand.PREPARE);
        rm.failNextPrepare(new XAException(XAException.XAER_RMFAIL), StubResourceManager.Then.EXECUTES);
        Run core = throughTheCore("xatm:parity.5.b", BranchCommand.PREPARE);

        assertThat(core.answers()).hasSize(1).isEqualTo(old.answers());
        // today's agent rolls the old one back by xid in the background (InDoubtBranches); the core at once
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(rm.prepared()).isEmpty());
        assertThat(rm.finished()).contains("rollback " + core.xid());
    }
}
