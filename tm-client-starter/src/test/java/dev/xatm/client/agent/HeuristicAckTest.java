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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.transaction.xa.XAException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A database that decided a branch on its own (XA_HEUR*, or XA_RB* to a two-phase commit) is reported
 * to the coordinator as the matching heuristic acknowledgement, never as DONE. One that matches the
 * command (XA_HEURCOM to a commit, XA_HEURRB to a rollback) is also forgotten in the database; any
 * other is left there for an operator. Against a stub resource manager answering each code.
 */
class HeuristicAckTest {
    static final AtomicInteger IDS = new AtomicInteger();
    final StubResourceManager rm = new StubResourceManager();
    AgentHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new AgentHarness(false, new AgentListener() { }, rm.dialect());
    }

    @AfterEach
    void tearDown() throws Exception {
        GlobalTxContext.bind(null);
        h.close();
    }

    @ParameterizedTest(name = "{0} answered with {1} is acknowledged as {2}, forgotten: {3}")
    @CsvSource({
            "COMMIT,           XA_HEURCOM,    HEURISTIC_COMMIT,    true",
            "COMMIT,           XA_HEURRB,     HEURISTIC_ROLLBACK,  false",
            "COMMIT,           XA_HEURMIX,    HEURISTIC_MIXED,     false",
            "COMMIT,           XA_HEURHAZ,    HEURISTIC_HAZ,       false",
            "COMMIT,           XA_RBROLLBACK, HEURISTIC_ROLLBACK,  false",
            "COMMIT,           XA_RBDEADLOCK, HEURISTIC_ROLLBACK,  false",
            "ROLLBACK,         XA_HEURRB,     HEURISTIC_ROLLBACK,  true",
            "ROLLBACK,         XA_HEURCOM,    HEURISTIC_COMMIT,    false",
            "ROLLBACK,         XA_HEURMIX,    HEURISTIC_MIXED,     false",
            "ROLLBACK,         XA_HEURHAZ,    HEURISTIC_HAZ,       false",
            "ROLLBACK,         XA_RBROLLBACK, DONE,                false",
            "COMMIT_ONE_PHASE, XA_HEURCOM,    HEURISTIC_COMMIT,    true",
            "COMMIT_ONE_PHASE, XA_HEURRB,     HEURISTIC_ROLLBACK,  false",
            "COMMIT_ONE_PHASE, XA_HEURHAZ,    HEURISTIC_HAZ,       false",
            "COMMIT_ONE_PHASE, XA_RBROLLBACK, ROLLED_BACK_INSTEAD, false",
    })
    void theDatabasesOwnDecisionReachesTheCoordinator(PhaseAction command, String code, AckResult expected, boolean forgotten)
            throws Exception {
        TmXid xid = h.insert("xatm:heur." + IDS.incrementAndGet() + ".", 7);
        Branch b = h.table.get(xid);
        if (command != PhaseAction.COMMIT_ONE_PHASE) {
            assertThat(h.agent.runForCaller(b, BranchCommand.PREPARE)).isEqualTo(BranchAnswer.VOTE_YES);
        }
        rm.decideNextOnItsOwn(new XAException(XAException.class.getField(code).getInt(null)));

        h.fake.command(xid.gtrid(), xid.bqual(), command);

        assertThat(ackFor(xid, command, 5_000)).as("the acknowledgement of " + command).isEqualTo(expected);
        assertThat(b.isFinished() || b.state() == Branch.State.COMMITTED).as("phase 2 is over for the branch").isTrue();
        assertThat(rm.forgotten()).isEqualTo(forgotten ? List.of("forget " + xid) : List.of());
    }

    /** The result of the first Ack the agent sends for {@code xid} and {@code action} within {@code millis}, or null. */
    AckResult ackFor(TmXid xid, PhaseAction action, long millis) throws InterruptedException {
        long until = System.currentTimeMillis() + millis;
        for (AgentMessage m = h.fake.poll(millis); m != null; m = h.fake.poll(Math.max(1, until - System.currentTimeMillis()))) {
            List<Ack> acks = m.hasAcks() ? m.getAcks().getAcksList() : m.hasAck() ? List.of(m.getAck()) : List.of();
            for (Ack a : acks) {
                if (a.getGtrid().equals(xid.gtrid()) && a.getBqual().equals(xid.bqual()) && a.getAction() == action) {
                    return a.getResult();
                }
            }
            if (System.currentTimeMillis() >= until) {
                break;
            }
        }
        return null;
    }
}
