package dev.xatm.client.agent;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckResult;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.PhaseAction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.transaction.xa.XAException;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An XA call whose answer is lost with its connection (the database ended the session right after
 * it ran the statement) is never read as "not done": the branch is in doubt, and the agent finishes
 * it by xid on a fresh connection until the database confirms. Against a stub resource manager in
 * which a prepared branch outlives its connection, as in PostgreSQL and MariaDB.
 */
class InDoubtBranchTest {
    static final String GTRID = "xatm:indoubt.1.";
    final StubResourceManager rm = new StubResourceManager();
    final AtomicInteger settled = new AtomicInteger();
    AgentHarness h;

    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() {
            @Override
            public void settledByRecovery(String source) {
                settled.incrementAndGet();
            }
        }, rm.dialect());
    }

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        if (h != null) {
            h.close();
        }
    }

    static XAException lostAnswer(int code) {
        if (code != 0) {
            return new XAException(code);
        }
        // mariadb-java-client: no XA code, the connection failure as the cause
        XAException e = new XAException("(conn=42) Connection killed");
        e.initCause(new SQLNonTransientConnectionException("socket closed", "08000"));
        return e;
    }

    /** XAER_RMFAIL (connection lost), errorCode 0 (mariadb-java-client), XAER_RMERR (pgjdbc, terminated backend). */
    @ParameterizedTest
    @ValueSource(ints = {XAException.XAER_RMFAIL, 0, XAException.XAER_RMERR})
    void aPrepareWhoseAnswerIsLostVotesNoAndIsRolledBackByXidOnAnotherConnection(int code) throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "p" + code, 1);
        Branch b = h.table.get(xid);
        rm.failNextPrepare(lostAnswer(code), StubResourceManager.Then.EXECUTES);

        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(rm.prepared()).isEmpty();
            assertThat(b.state()).isEqualTo(Branch.State.ROLLED_BACK);
        });
        assertThat(rm.finished()).containsExactly("rollback " + xid);
        assertThat(rm.finishedOn(xid)).isNotNull().isNotEqualTo(rm.preparedOn(xid));
        assertThat(h.agent.inDoubtCount()).isZero();
        assertThat(settled).hasValue(1);
        // the coordinator's resent PREPARE still gets the NO
        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);
    }

    /** The PREPARE never ran: the rollback by xid meets XAER_NOTA, which for a rollback means done. */
    @Test
    void aPrepareThatNeverRanIsSettledByTheRollbackByXidAsWell() throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "never", 2);
        Branch b = h.table.get(xid);
        rm.failNextPrepare(new XAException(XAException.XAER_RMFAIL), StubResourceManager.Then.DOES_NOT_EXECUTE);

        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);

        await().atMost(Duration.ofSeconds(10)).until(() -> b.state() == Branch.State.ROLLED_BACK);
        assertThat(rm.prepared()).isEmpty();
        assertThat(h.agent.inDoubtCount()).isZero();
    }

    /** A definite refusal (the database rolled the branch back) is a plain NO: nothing in doubt, nothing retried. */
    @Test
    void aDefiniteRefusalIsNotInDoubt() throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "rb", 3);
        Branch b = h.table.get(xid);
        rm.failNextPrepare(new XAException(XAException.XA_RBINTEGRITY), StubResourceManager.Then.DOES_NOT_EXECUTE);

        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);

        assertThat(b.state()).isEqualTo(Branch.State.ROLLED_BACK);
        assertThat(h.agent.inDoubtCount()).isZero();
        assertThat(settled).hasValue(0);
    }

    /**
     * The database is still unreachable for the first attempts by xid: the agent keeps trying with
     * backoff, the branch counts as in doubt meanwhile, and the rollback gets through in the end.
     */
    @Test
    void theRollbackByXidIsRetriedUntilTheDatabaseAnswers() throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "retry", 4);
        Branch b = h.table.get(xid);
        rm.refusePhaseTwo.set(3);
        rm.failNextPrepare(new XAException(XAException.XAER_RMFAIL), StubResourceManager.Then.EXECUTES);

        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);
        assertThat(h.agent.inDoubtCount()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(10)).until(() -> rm.prepared().isEmpty());
        await().atMost(Duration.ofSeconds(5)).until(() -> h.agent.inDoubtCount() == 0);
        assertThat(rm.refusePhaseTwo).hasValue(0);
        assertThat(b.state()).isEqualTo(Branch.State.ROLLED_BACK);
    }

    /**
     * MariaDB answers XAER_NOTA for a branch still bound to the session that prepared it (until that
     * session has ended), although XA RECOVER lists it: that NOTA is "not yet", never "done". The
     * branch stays in doubt, prepared, and the retries go on until the rollback really happens.
     */
    @Test
    void aNotaWhileTheBranchIsStillListedIsNotTakenForDone() throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "bound", 6);
        Branch b = h.table.get(xid);
        rm.stillBoundToItsSession.set(6); // ~0.75 s of backoff: the caller's rollback comes well within it
        rm.failNextPrepare(new XAException("(conn=7) Connection killed"), StubResourceManager.Then.EXECUTES);

        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_NO);
        assertThat(h.agent.runForCaller(b, BranchCommand.ROLLBACK)).as("the caller's rollback meets the bound session")
                .isEqualTo(BranchAnswer.NONE);
        assertThat(b.state()).isEqualTo(Branch.State.IN_DOUBT);
        assertThat(rm.prepared()).containsExactly(xid);

        await().atMost(Duration.ofSeconds(10)).until(() -> b.state() == Branch.State.ROLLED_BACK);
        assertThat(rm.stillBoundToItsSession).hasValue(0);
        assertThat(rm.prepared()).isEmpty();
        assertThat(rm.finished()).containsExactly("rollback " + xid);
    }

    /**
     * The coordinator's COMMIT lost its answer and its connection: the decision is retried by xid on a
     * fresh connection (whether the first one ran it or not) and acknowledged once it took effect.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aCommitWhoseAnswerIsLostIsRetriedByXid(boolean firstOneRan) throws Exception {
        start();
        TmXid xid = h.insert(GTRID + "c" + firstOneRan, 5);
        Branch b = h.table.get(xid);
        assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        rm.failNextCommit(new XAException(XAException.XAER_RMFAIL),
                firstOneRan ? StubResourceManager.Then.EXECUTES : StubResourceManager.Then.DOES_NOT_EXECUTE);

        assertThat(h.agent.runForCaller(b, BranchCommand.COMMIT)).isEqualTo(BranchAnswer.NONE);

        await().atMost(Duration.ofSeconds(10)).until(() -> b.state() == Branch.State.COMMITTED);
        assertThat(rm.prepared()).isEmpty();
        assertThat(rm.finished()).containsExactly("commit " + xid);
        assertThat(h.agent.inDoubtCount()).isZero();
        assertThat(ackedCommit(xid, 5_000)).as("the commit is acknowledged to the coordinator").isTrue();
    }

    private boolean ackedCommit(TmXid xid, long millis) throws InterruptedException {
        long until = System.currentTimeMillis() + millis;
        for (AgentMessage m = h.fake.poll(millis); m != null; m = h.fake.poll(Math.max(1, until - System.currentTimeMillis()))) {
            List<Ack> acks = m.hasAcks() ? m.getAcks().getAcksList() : m.hasAck() ? List.of(m.getAck()) : List.of();
            for (Ack a : acks) {
                if (a.getGtrid().equals(xid.gtrid()) && a.getBqual().equals(xid.bqual()) && a.getAction() == PhaseAction.COMMIT
                        && a.getResult() == AckResult.DONE) {
                    return true;
                }
            }
            if (System.currentTimeMillis() >= until) {
                break;
            }
        }
        return false;
    }
}
