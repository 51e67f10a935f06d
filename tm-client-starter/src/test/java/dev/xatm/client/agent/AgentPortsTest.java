package dev.xatm.client.agent;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.core.Action;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantConfig;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The participant core driven against a database (a {@link StubResourceManager}) through
 * {@link AgentPorts}: phase commands of held branches run on their connections, those of branches
 * only the database knows run by xid, 3PC's timers run on a scheduler, and every answer leaves as the
 * agent's wire message on the stream of the node that asked.
 */
class AgentPortsTest {
    static final String NODE = "node-1";
    static final String GTRID = "xatm:ports.1.";
    final StubResourceManager rm = new StubResourceManager();
    final List<String> sentTo = new CopyOnWriteArrayList<>();
    final List<AgentMessage> sent = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    AgentHarness h;
    EnlistedResource resource;
    AgentPorts ports;
    ParticipantDriver driver;
    List<BranchKey> listed = List.of();

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() { }, rm.dialect());
        resource = new EnlistedResource("h2", h.pool.getJdbcUrl(), rm.dialect(), h.pool, null);
        ports = new AgentPorts(h.table::get, () -> List.of(resource), id -> Optional.of(listed), (server, m) -> {
            sentTo.add(server);
            sent.add(m);
        }, scheduler);
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

    private BranchKey enlisted(String gtrid, long id) throws Exception {
        TmXid xid = h.insert(gtrid, id);
        BranchKey key = new BranchKey(xid.gtrid(), xid.bqual());
        driver.drive(new ParticipantEvent.Enlisted(key, resource.resourceId(), NODE));
        driver.drive(new ParticipantEvent.Released(key, true, false));
        return key;
    }

    private void command(BranchKey key, Action a, long timeout) {
        driver.drive(new ParticipantEvent.Command(NODE, key, a, timeout, System.currentTimeMillis()));
    }

    private static TmXid xid(BranchKey k) {
        return new TmXid(k.gtrid(), k.bqual());
    }

    @Test
    void aHeldBranchIsPreparedAndCommittedOnItsConnectionAndAnsweredOnTheStreamThatAsked() throws Exception {
        BranchKey k = enlisted(GTRID + "2pc", 1);

        command(k, Action.PREPARE, 0);
        command(k, Action.COMMIT, 0);

        assertThat(sentTo).containsExactly(NODE, NODE);
        assertThat(sent.get(0).getVote().getVote()).isEqualTo(BranchVote.YES);
        assertThat(sent.get(1).getAck().getAction()).isEqualTo(PhaseAction.COMMIT);
        assertThat(sent.get(1).getAck().getResult()).isEqualTo(AckResult.DONE);
        assertThat(rm.finished()).containsExactly("commit " + xid(k));
        assertThat(rm.finishedOn(xid(k))).isEqualTo(rm.preparedOn(xid(k)));
    }

    @Test
    void aCommitForABranchOnlyTheDatabaseKnowsRunsByXid() {
        TmXid orphan = new TmXid(GTRID + "orphan", "b1");
        rm.prepareOrphan(orphan);

        command(new BranchKey(orphan.gtrid(), orphan.bqual()), Action.COMMIT, 0);

        assertThat(rm.finished()).containsExactly("commit " + orphan);
        assertThat(sent).singleElement().satisfies(m -> assertThat(m.getAck().getResult()).isEqualTo(AckResult.DONE));
    }

    @Test
    void aWillingBranchNobodyDecidesForRollsBackOnItsOwnJournalsAndReportsIt() throws Exception {
        driver.drive(new ParticipantEvent.Connected(NODE, System.currentTimeMillis()));
        BranchKey k = enlisted(GTRID + "3pc", 2);

        command(k, Action.CAN_COMMIT, 50);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(ports.journal()).singleElement().satisfies(d -> assertThat(d.decision()).isEqualTo(Action.ROLLBACK));
            assertThat(sent).anySatisfy(m -> {
                assertThat(m.getAck().getAutonomous()).isTrue();
                assertThat(m.getAck().getAction()).isEqualTo(PhaseAction.ROLLBACK);
            });
        });
        assertThat(ports.pendingTimers()).isZero();
        assertThat(rm.prepared()).isEmpty();
    }

    @Test
    void theCommandATimerWaitedForCancelsIt() throws Exception {
        BranchKey k = enlisted(GTRID + "cancel", 3);

        command(k, Action.CAN_COMMIT, 60_000);
        assertThat(ports.pendingTimers()).isEqualTo(1);
        command(k, Action.ROLLBACK, 0);

        assertThat(ports.pendingTimers()).isZero();
        assertThat(ports.journal()).isEmpty();
    }

    @Test
    void aBranchXaRecoverListsIsAskedAboutOnTheStream() {
        TmXid orphan = new TmXid(GTRID + "listed", "b1");
        listed = List.of(new BranchKey(orphan.gtrid(), orphan.bqual()));

        driver.drive(new ParticipantEvent.Connected(NODE, System.currentTimeMillis()));

        assertThat(sent).singleElement().satisfies(m -> {
            assertThat(m.getInquiry().getGtrid()).isEqualTo(orphan.gtrid());
            assertThat(m.getInquiry().getResourceId()).isEqualTo(resource.resourceId());
        });
    }
}
