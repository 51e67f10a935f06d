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

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The test agent's stream side against a scripted coordinator: Hello with the bearer token, votes
 * and acks on the stream, held COMMITs, and -- after the coordinator restarts -- a reconnect that
 * inquires about every branch still prepared.
 */
@RequiresDatabases
class AgentStreamIT {
    private static final Duration T = Duration.ofSeconds(20);

    private TestDatabases dbs;
    private String prefix;
    private String table;
    private FakeCoordinator fake;
    private TestAgent agent;

    @BeforeEach
    void setUp() throws SQLException {
        dbs = TestDatabases.require();
        String unique = Unique.suffix();
        prefix = "st-" + unique;
        table = "it_stream_" + unique;
        dbs.createTable(table);
        fake = new FakeCoordinator().start();
        agent = new TestAgent("stream-agent", fake.target(), "s3cret", prefix, dbs.both());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (dbs == null) {
            return; // skipped
        }
        agent.close();
        fake.close();
        dbs.cleanUp(prefix, table);
    }

    private AgentMessage next() throws InterruptedException {
        AgentMessage m = fake.next(T);
        assertThat(m).as("a message from the agent within " + T).isNotNull();
        return m;
    }

    private static PhaseCommand cmd(TmXid xid, PhaseAction action) {
        return PhaseCommand.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(action).build();
    }

    @Test
    void reconnectsAfterACoordinatorRestartAndInquiresAboutPreparedBranches() throws Exception {
        agent.start();
        AgentMessage hello = next();
        assertThat(hello.getHello().getAgentId()).isEqualTo("stream-agent");
        assertThat(fake.authorizations()).containsExactly("Bearer s3cret");

        List<TmXid> xids = new ArrayList<>();
        long id = 1;
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = agent.begin(db, prefix + "-1", db.kind().name().toLowerCase());
            b.insert(table, id++, "x");
            xids.add(b.xid());
            fake.send(cmd(b.xid(), PhaseAction.PREPARE));
            AgentMessage vote = next();
            assertThat(vote.getVote().getVote()).isEqualTo(BranchVote.YES);
            assertThat(vote.getVote().getBqual()).isEqualTo(b.xid().bqual());
        }

        // The first COMMIT is held and lost with the stream: only the restarted coordinator's counts.
        agent.holdCommits();
        fake.send(cmd(xids.get(0), PhaseAction.COMMIT));
        await().atMost(T).until(() -> agent.heldCommitCount() == 1);
        fake.stop();
        await().atMost(T).until(() -> !agent.isConnected());
        assertThat(agent.discardHeldCommits()).isEqualTo(1);
        agent.releaseCommits();

        fake.start();
        assertThat(next().hasHello()).as("Hello again after the restart").isTrue();
        List<TmXid> inquired = new ArrayList<>();
        for (int i = 0; i < xids.size(); i++) {
            AgentMessage m = next();
            assertThat(m.hasInquiry()).as("an Inquiry, got " + m).isTrue();
            inquired.add(new TmXid(m.getInquiry().getGtrid(), m.getInquiry().getBqual()));
        }
        assertThat(inquired).containsExactlyInAnyOrderElementsOf(xids);

        for (TmXid xid : xids) {
            fake.send(cmd(xid, PhaseAction.COMMIT));
            AgentMessage ack = next();
            assertThat(ack.getAck().getAction()).isEqualTo(PhaseAction.COMMIT);
            assertThat(ack.getAck().getResult()).isEqualTo(AckResult.DONE);
        }
        for (TestDb db : dbs.both()) {
            assertThat(db.preparedBranches(prefix)).isEmpty();
            assertThat(db.ids(table)).hasSize(1);
        }
        assertThat(agent.welcomes()).isEqualTo(2);
        assertThat(agent.violations()).isEmpty();
    }

    /** A new agent instance finds the branches its crashed predecessor prepared through XA RECOVER. */
    @Test
    void aFreshAgentFindsPreparedBranchesThroughXaRecover() throws Exception {
        agent.start();
        assertThat(next().hasHello()).isTrue();
        List<TmXid> xids = new ArrayList<>();
        long id = 1;
        for (TestDb db : dbs.both()) {
            TestAgent.Branch b = agent.begin(db, prefix + "-2", db.kind().name().toLowerCase());
            b.insert(table, id++, "x");
            xids.add(b.xid());
            fake.send(cmd(b.xid(), PhaseAction.PREPARE));
            assertThat(next().getVote().getVote()).isEqualTo(BranchVote.YES);
        }
        agent.crash();
        // A foreign branch with our format id but another prefix must not be inquired about.
        TestAgent other = new TestAgent("other", "127.0.0.1:1", "unused", prefix + "x", dbs.both());
        TestAgent.Branch foreign = other.begin(dbs.postgres(), prefix + "x-9", "f");
        foreign.insert(table, 99, "foreign");
        other.handle(cmd(foreign.xid(), PhaseAction.PREPARE), T);
        try {
            agent = new TestAgent("stream-agent", fake.target(), "s3cret", prefix, dbs.both()).start();
            assertThat(next().hasHello()).isTrue();
            List<TmXid> inquired = new ArrayList<>();
            for (int i = 0; i < xids.size(); i++) {
                AgentMessage m = next();
                assertThat(m.hasInquiry()).as("an Inquiry, got " + m).isTrue();
                inquired.add(new TmXid(m.getInquiry().getGtrid(), m.getInquiry().getBqual()));
            }
            assertThat(inquired).containsExactlyInAnyOrderElementsOf(xids);
            for (TmXid xid : xids) {
                fake.send(cmd(xid, PhaseAction.ROLLBACK));
                assertThat(next().getAck().getResult()).isEqualTo(AckResult.DONE);
            }
            assertThat(fake.next(Duration.ofMillis(300))).as("nothing about the foreign branch").isNull();
            for (TestDb db : dbs.both()) {
                assertThat(db.preparedBranches(prefix)).isEmpty();
                assertThat(db.rowIsFree(table, db == dbs.postgres() ? 1 : 2)).isTrue();
            }
            assertThat(dbs.postgres().preparedBranches(prefix + "x")).containsExactly(foreign.xid());
        } finally {
            other.handle(cmd(foreign.xid(), PhaseAction.ROLLBACK), T);
            other.close();
        }
    }
}
