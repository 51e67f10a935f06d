package dev.xatm.client.agent;

import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.EnlistedResource;
import dev.xatm.client.enlist.XidCalls;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import dev.xatm.protocol.TmXid;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.transaction.xa.XAException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Branch} and {@link XidCalls} as the participant core's XA executors: they run the call asked
 * for, name its outcome, and leave every decision to the core. On a {@link StubResourceManager}, in
 * which a prepared branch outlives its connection.
 */
class BranchXaExecutorTest {
    static final String GTRID = "xatm:exec.1.";
    final StubResourceManager rm = new StubResourceManager();
    AgentHarness h;
    EnlistedResource resource;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() { }, rm.dialect());
        resource = new EnlistedResource("h2", h.pool.getJdbcUrl(), rm.dialect(), h.pool, null);
    }

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        h.close();
    }

    @Test
    void runsTheCallsOnTheBranchsOwnConnection() throws Exception {
        TmXid xid = h.insert(GTRID + "ok", 1);
        Branch b = h.table.get(xid);

        assertThat(b.run(XaOp.END)).isEqualTo(XaResult.OK);
        assertThat(b.run(XaOp.PREPARE)).isEqualTo(XaResult.OK);
        assertThat(rm.prepared()).containsExactly(xid);
        assertThat(b.run(XaOp.COMMIT)).isEqualTo(XaResult.OK);

        assertThat(rm.finished()).containsExactly("commit " + xid);
        assertThat(rm.finishedOn(xid)).isEqualTo(rm.preparedOn(xid));
        b.finish(true);
    }

    @Test
    void aLostAnswerIsUnavailableAndWhatFollowsRunsByXidOnAnotherConnection() throws Exception {
        TmXid xid = h.insert(GTRID + "lost", 2);
        Branch b = h.table.get(xid);
        rm.failNextPrepare(new XAException(XAException.XAER_RMFAIL), StubResourceManager.Then.EXECUTES);

        assertThat(b.run(XaOp.END)).isEqualTo(XaResult.OK);
        assertThat(b.run(XaOp.PREPARE)).isEqualTo(XaResult.UNAVAILABLE);
        // the connection was evicted: phase one cannot run any more, phase two runs by xid on a fresh connection
        assertThat(b.run(XaOp.END_FAIL)).isEqualTo(XaResult.UNAVAILABLE);
        assertThat(b.run(XaOp.ROLLBACK)).isEqualTo(XaResult.OK);
        assertThat(rm.finished()).containsExactly("rollback " + xid);
        assertThat(rm.finishedOn(xid)).isNotEqualTo(rm.preparedOn(xid));
    }

    @Test
    void aBranchStillBoundToItsPreparingSessionIsNotFoundOnlyOnceXaRecoverNoLongerListsIt() {
        TmXid xid = new TmXid(GTRID + "bound", "b1");
        rm.prepareOrphan(xid);
        rm.stillBoundToItsSession.set(1);

        assertThat(XidCalls.run(xid, XaOp.COMMIT, List.of(resource))).isEqualTo(XaResult.UNAVAILABLE);
        assertThat(XidCalls.run(xid, XaOp.COMMIT, List.of(resource))).isEqualTo(XaResult.OK);
        assertThat(XidCalls.run(xid, XaOp.COMMIT, List.of(resource))).isEqualTo(XaResult.NOT_FOUND);
    }

    @Test
    void onlyPhaseTwoRunsByXid() {
        TmXid xid = new TmXid(GTRID + "p1", "b1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> XidCalls.run(xid, XaOp.PREPARE, List.of(resource)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aHeuristicThatMatchesTheCallIsForgottenAnyOtherIsKept() throws Exception {
        TmXid same = h.insert(GTRID + "hc", 3);
        Branch b = h.table.get(same);
        b.run(XaOp.END);
        b.run(XaOp.PREPARE);
        rm.decideNextOnItsOwn(new XAException(XAException.XA_HEURCOM));
        assertThat(b.run(XaOp.COMMIT)).isEqualTo(XaResult.HEURISTIC_COMMIT);
        assertThat(rm.forgotten()).containsExactly("forget " + same);

        TmXid other = new TmXid(GTRID + "hr", "b1");
        rm.prepareOrphan(other);
        rm.decideNextOnItsOwn(new XAException(XAException.XA_HEURRB));
        assertThat(XidCalls.run(other, XaOp.COMMIT, List.of(resource))).isEqualTo(XaResult.HEURISTIC_ROLLBACK);
        assertThat(rm.forgotten()).containsExactly("forget " + same);
    }

    @Test
    void aCommitTheDatabaseRolledBackIsAHeuristicRollback() {
        TmXid xid = new TmXid(GTRID + "rb", "b1");
        rm.prepareOrphan(xid);
        rm.decideNextOnItsOwn(new XAException(XAException.XA_RBTIMEOUT));

        assertThat(XidCalls.run(xid, XaOp.COMMIT, List.of(resource))).isEqualTo(XaResult.HEURISTIC_ROLLBACK);
    }
}
