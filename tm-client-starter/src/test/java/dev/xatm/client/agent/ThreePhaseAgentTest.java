package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.Vote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent's side of three-phase commit against a scripted coordinator, on an H2 branch: the
 * CAN_COMMIT question, PRE_COMMIT's prepare, the participant timers (they fire, and COMMIT / ROLLBACK
 * / PRE_COMMIT disarm them), and the report of an own decision: at once, after a reconnect, and in
 * answer to every later command.
 */
class ThreePhaseAgentTest {
    static final String GTRID = "xatm:threephase.1.";
    /** Long enough never to fire during a test. */
    static final long NEVER = 600_000;
    /** Short, for the timers a test waits to fire. */
    static final long SHORT = 300;
    /**
     * For the timers the next command must beat: long enough that a slow, shared machine never lets
     * the timer win by accident (that would be correct 3PC, and a flaky test).
     */
    static final long WINDOW = 2_000;
    /** How long "nothing more arrives" is watched for: past {@link #WINDOW}. */
    static final long QUIET = 2_500;

    final List<String> ownDecisions = new CopyOnWriteArrayList<>();
    AgentHarness h;
    FakeCoordinatorServer fake;
    int n;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() {
            @Override
            public void decidedOnItsOwn(String outcome) {
                ownDecisions.add(outcome);
            }
        });
        fake = h.fake;
        await().atMost(Duration.ofSeconds(10)).until(h.agent::isConnected);
    }

    @AfterEach
    void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    TmXid written() throws Exception {
        n++;
        return h.insert(GTRID + n, n);
    }

    void send(TmXid xid, PhaseAction action, long participantTimeoutMs) {
        fake.command(xid.gtrid(), xid.bqual(), action, participantTimeoutMs);
    }

    Vote vote() throws InterruptedException {
        AgentMessage m = fake.next();
        assertThat(m.hasVote()).as("a vote: %s", m).isTrue();
        return m.getVote();
    }

    Ack ack() throws InterruptedException {
        AgentMessage m = fake.next();
        assertThat(m.hasAck()).as("an ack: %s", m).isTrue();
        return m.getAck();
    }

    static void assertAck(Ack ack, PhaseAction action, AckResult result, boolean autonomous) {
        assertThat(ack.getAction()).as("action of %s", ack).isEqualTo(action);
        assertThat(ack.getResult()).as("result of %s", ack).isEqualTo(result);
        assertThat(ack.getAutonomous()).as("autonomous of %s", ack).isEqualTo(autonomous);
    }

    Branch branch(TmXid xid) {
        return h.table.get(xid);
    }

    void assertQuiet() throws InterruptedException {
        assertThat(fake.poll(QUIET)).as("no further message from the agent").isNull();
    }

    /** CAN_COMMIT changes nothing durable: YES, the branch is XA-ended and not prepared. */
    @Test
    void canCommitOfAHealthyBranchAnswersYes() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.YES);
        assertThat(v.getAnswering()).isEqualTo(PhaseAction.CAN_COMMIT);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.WILLING);
        assertThat(h.preparedInH2()).isEmpty();

        send(xid, PhaseAction.CAN_COMMIT, NEVER); // a resend: the same answer
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
    }

    @Test
    void canCommitOfAnUnknownBranchAnswersNo() throws Exception {
        fake.command(GTRID + "unknown", "nobody", PhaseAction.CAN_COMMIT, NEVER);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.NO);
        assertThat(v.getAnswering()).isEqualTo(PhaseAction.CAN_COMMIT);
    }

    /** A doomed branch (its business scope failed) answers NO and is rolled back at once. */
    @Test
    void canCommitOfADoomedBranchAnswersNoAndRollsBack() throws Exception {
        n++;
        TmXid xid = h.work(GTRID + n, "INSERT INTO t (id) VALUES (" + n + ")", true);
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.NO);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(h.rows()).isZero();
    }

    /** A branch whose connection was closed under it is not healthy: NO. */
    @Test
    void canCommitOfABranchWhoseConnectionDiedAnswersNo() throws Exception {
        n++;
        TmXid xid = h.work(GTRID + n, "INSERT INTO t (id) VALUES (" + n + ")", false);
        closeSessionOf(xid); // what pg_terminate_backend does to a PostgreSQL branch
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.NO);
        assertThat(v.getAnswering()).isEqualTo(PhaseAction.CAN_COMMIT);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(h.rows()).isZero();
    }

    private void closeSessionOf(TmXid xid) throws Exception {
        // H2's SHUTDOWN would take the database away from everyone; closing the session is what we want
        try (var c = h.pool.getConnection(); var s = c.createStatement()) {
            var rs = s.executeQuery("SELECT SESSION_ID FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID <> SESSION_ID()"
                    + " AND CONTAINS_UNCOMMITTED");
            List<Integer> ids = new java.util.ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getInt(1));
            }
            assertThat(ids).as("the branch's session, which holds the uncommitted insert").hasSize(1);
            s.execute("SELECT ABORT_SESSION(" + ids.get(0) + ")");
        }
    }

    /** A branch that wrote nothing finishes at CAN_COMMIT and answers READ_ONLY, as at PREPARE. */
    @Test
    void canCommitOfAReadOnlyBranchAnswersReadOnly() throws Exception {
        n++;
        TmXid xid = h.work(GTRID + n, "SELECT COUNT(*) FROM t", false);
        send(xid, PhaseAction.CAN_COMMIT, SHORT);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.READ_ONLY);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.READ_ONLY);
        assertQuiet(); // no timer for a branch that is finished
        assertThat(ownDecisions).isEmpty();
    }

    /** PRE_COMMIT prepares; a resend answers YES again; COMMIT commits and disarms the timer. */
    @Test
    void preCommitPreparesAndCommitDisarmsTheTimer() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, WINDOW);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(xid, PhaseAction.PRE_COMMIT, WINDOW);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.YES);
        assertThat(v.getAnswering()).isEqualTo(PhaseAction.PRE_COMMIT);
        assertThat(h.preparedInH2()).containsExactly(xid);
        send(xid, PhaseAction.PRE_COMMIT, WINDOW);
        assertThat(vote().getVote()).as("a repeated PRE_COMMIT").isEqualTo(BranchVote.YES);

        send(xid, PhaseAction.COMMIT, 0);
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, false);
        assertThat(h.agent.pendingTimers()).as("a disarmed timer leaves the clock at once, not after its timeout").isZero();
        assertQuiet();
        assertThat(branch(xid).decidedOnItsOwn()).isNull();
        assertThat(h.rows()).isEqualTo(1);
        assertThat(h.preparedInH2()).isEmpty();
        assertThat(ownDecisions).isEmpty();
    }

    @Test
    void preCommitOfAnUnknownOrRolledBackBranchAnswersNo() throws Exception {
        fake.command(GTRID + "unknown", "nobody", PhaseAction.PRE_COMMIT, NEVER);
        Vote v = vote();
        assertThat(v.getVote()).isEqualTo(BranchVote.NO);
        assertThat(v.getAnswering()).isEqualTo(PhaseAction.PRE_COMMIT);

        TmXid xid = written();
        send(xid, PhaseAction.ROLLBACK, 0);
        assertAck(ack(), PhaseAction.ROLLBACK, AckResult.DONE, false);
        send(xid, PhaseAction.PRE_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.NO);
    }

    /** YES to CAN_COMMIT and no PRE_COMMIT in time: the branch rolls back on its own and says so. */
    @Test
    void canCommitTimerRollsBackOnItsOwn() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, SHORT);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        assertAck(ack(), PhaseAction.ROLLBACK, AckResult.DONE, true);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(h.rows()).isZero();
        assertThat(ownDecisions).containsExactly("rollback");

        // a late PRE_COMMIT gets the same report, never a prepare
        send(xid, PhaseAction.PRE_COMMIT, SHORT);
        assertAck(ack(), PhaseAction.ROLLBACK, AckResult.DONE, true);
        assertThat(h.preparedInH2()).isEmpty();
    }

    /** Acknowledged PRE_COMMIT and no decision in time: the branch commits on its own and says so. */
    @Test
    void preCommitTimerCommitsOnItsOwnAndEveryLaterCommandGetsThatReport() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(xid, PhaseAction.PRE_COMMIT, SHORT);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, true);
        assertThat(branch(xid).state()).isEqualTo(Branch.State.COMMITTED);
        assertThat(h.rows()).isEqualTo(1);
        assertThat(h.preparedInH2()).isEmpty();
        assertThat(ownDecisions).containsExactly("commit");

        send(xid, PhaseAction.PRE_COMMIT, SHORT); // a restarted coordinator asks again
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, true);
        send(xid, PhaseAction.COMMIT, 0);
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, true);
        send(xid, PhaseAction.ROLLBACK, 0); // the partition hazard: the coordinator aborted
        assertAck(ack(), PhaseAction.ROLLBACK, AckResult.HEURISTIC_COMMIT, true);
        assertThat(h.rows()).as("an own commit is never undone").isEqualTo(1);
        assertThat(ownDecisions).containsExactly("commit");
    }

    /** ROLLBACK after PRE_COMMIT disarms the commit timer; PRE_COMMIT replaces CAN_COMMIT's rollback timer. */
    @Test
    void rollbackAndPreCommitDisarmTheTimers() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, WINDOW);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(xid, PhaseAction.PRE_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        assertQuiet(); // CAN_COMMIT's timer would have rolled back by now
        assertThat(branch(xid).state()).isEqualTo(Branch.State.PREPARED);

        TmXid other = written();
        send(other, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(other, PhaseAction.PRE_COMMIT, WINDOW);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(other, PhaseAction.ROLLBACK, 0);
        assertAck(ack(), PhaseAction.ROLLBACK, AckResult.DONE, false);
        assertQuiet(); // PRE_COMMIT's timer would have committed by now
        assertThat(branch(other).state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(ownDecisions).isEmpty();

        send(xid, PhaseAction.COMMIT, 0);
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, false);
        assertThat(h.rows()).isEqualTo(1);
        assertThat(h.agent.pendingTimers()).isZero();
    }

    /**
     * A ROLLBACK that could not take effect (the branch's session died under it, so the agent will
     * finish it by xid on the coordinator's resend) still disarms the commit timer: the agent must
     * never commit what the coordinator decided to roll back.
     */
    @Test
    void aRollbackThatFailedStillDisarmsTheCommitTimer() throws Exception {
        n++;
        int session = h.insertNotingSession(GTRID + n, n);
        TmXid xid = h.table.branchesOf(GTRID + n).get(0).xid();
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(xid, PhaseAction.PRE_COMMIT, WINDOW);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        try (var c = h.pool.getConnection(); var s = c.createStatement()) {
            s.execute("SELECT ABORT_SESSION(" + session + ")");
        }
        send(xid, PhaseAction.ROLLBACK, 0);
        AgentMessage after = fake.poll(QUIET);
        assertThat(after == null || !after.getAck().getAutonomous()).as("no own decision after a ROLLBACK: %s", after).isTrue();
        assertQuiet();
        assertThat(branch(xid).decidedOnItsOwn()).isNull();
        assertThat(ownDecisions).isEmpty();
    }

    /**
     * The coordinator is gone after PRE_COMMIT: the prepared branch stays through the broken stream,
     * its timer commits it while the agent is disconnected, and the report goes out after the Welcome.
     */
    @Test
    void anOwnCommitWhileDisconnectedIsReportedAfterTheReconnect() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);
        send(xid, PhaseAction.PRE_COMMIT, WINDOW);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);

        fake.breakStream(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> !h.agent.isConnected());
        await().atMost(Duration.ofSeconds(10)).until(() -> branch(xid).state() == Branch.State.COMMITTED);
        assertThat(h.rows()).isEqualTo(1);
        assertThat(fake.poll(300)).as("nothing sent while the coordinator is down").isNull();

        fake.releaseWelcome();
        assertAck(ack(), PhaseAction.COMMIT, AckResult.DONE, true);
        assertQuiet(); // once: not an Inquiry (it is not prepared any more), not a second report
        assertThat(ownDecisions).containsExactly("commit");
    }

    /** A branch that answered CAN_COMMIT YES is unprepared: a broken stream rolls it back, as in 2PC, with no own-decision report. */
    @Test
    void aWillingBranchIsRolledBackWhenTheStreamBreaks() throws Exception {
        TmXid xid = written();
        send(xid, PhaseAction.CAN_COMMIT, NEVER);
        assertThat(vote().getVote()).isEqualTo(BranchVote.YES);

        fake.breakStream(false);
        await().atMost(Duration.ofSeconds(10)).until(() -> branch(xid).state() == Branch.State.ROLLED_BACK);
        await().atMost(Duration.ofSeconds(10)).until(h.agent::isConnected);
        assertThat(h.rows()).isZero();
        assertQuiet();
        assertThat(ownDecisions).isEmpty();
    }
}
