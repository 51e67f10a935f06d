package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.Vote;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The test agent's transport faults hit exactly what they name, and nothing else. */
class AgentFaultsTest {
    private final AgentFaults faults = new AgentFaults();
    private final TmXid xid = new TmXid("it-x-1", "maria");
    private final TmXid other = new TmXid("it-x-1", "pg");

    private static PhaseCommand cmd(TmXid xid, PhaseAction a) {
        return PhaseCommand.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(a).build();
    }

    private static AgentMessage vote(TmXid xid, BranchVote v, PhaseAction answering) {
        Vote.Builder b = Vote.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setVote(v);
        if (answering != null) {
            b.setAnswering(answering);
        }
        return AgentMessage.newBuilder().setVote(b).build();
    }

    @Test
    void aLostPhaseOneCommandIsLostOnTheStreamItWasArmedOnOnly() {
        faults.losePhaseOneCommand(xid, 1);
        assertThat(faults.lost(cmd(xid, PhaseAction.PREPARE), xid, 1)).isTrue();
        assertThat(faults.lost(cmd(xid, PhaseAction.PRE_COMMIT), xid, 1)).isTrue();
        assertThat(faults.lost(cmd(xid, PhaseAction.CAN_COMMIT), xid, 1)).as("CAN_COMMIT still arrives").isFalse();
        assertThat(faults.lost(cmd(xid, PhaseAction.ROLLBACK), xid, 1)).isFalse();
        assertThat(faults.lost(cmd(other, PhaseAction.PREPARE), other, 1)).isFalse();
        assertThat(faults.lost(cmd(xid, PhaseAction.PRE_COMMIT), xid, 2)).as("a restarted server's resend arrives").isFalse();
    }

    @Test
    void onlyTheYesThatSaysPreparedIsLost() {
        faults.loseVotes(xid);
        assertThat(faults.lost(vote(xid, BranchVote.YES, null))).as("2PC leaves answering unset").isTrue();
        assertThat(faults.lost(vote(xid, BranchVote.YES, PhaseAction.PRE_COMMIT))).isTrue();
        assertThat(faults.lost(vote(xid, BranchVote.YES, PhaseAction.CAN_COMMIT))).isFalse();
        assertThat(faults.lost(vote(xid, BranchVote.NO, PhaseAction.PREPARE))).isFalse();
        assertThat(faults.lost(vote(other, BranchVote.YES, PhaseAction.PREPARE))).isFalse();
        faults.stopLosingVotes();
        assertThat(faults.lost(vote(xid, BranchVote.YES, PhaseAction.PREPARE))).isFalse();
    }

    @Test
    void heldCommitsWaitUntilReleasedAndACrashPointFiresOnce() {
        assertThat(faults.held(cmd(xid, PhaseAction.COMMIT))).as("not holding yet").isFalse();
        faults.holdCommits();
        assertThat(faults.held(cmd(xid, PhaseAction.ROLLBACK))).isFalse();
        assertThat(faults.held(cmd(xid, PhaseAction.COMMIT))).isTrue();
        assertThat(faults.held(cmd(other, PhaseAction.COMMIT))).isTrue();
        assertThat(faults.releaseOne(other).getBqual()).isEqualTo("pg");
        assertThat(faults.heldCount()).isEqualTo(1);
        assertThat(faults.releaseAll()).hasSize(1);
        assertThat(faults.held(cmd(xid, PhaseAction.COMMIT))).isFalse();

        faults.crashAt(TestAgent.CrashPoint.AGENT_AFTER_PREPARE);
        assertThat(faults.fires(TestAgent.CrashPoint.AGENT_BEFORE_COMMIT_ACK)).isFalse();
        assertThat(faults.fires(TestAgent.CrashPoint.AGENT_AFTER_PREPARE)).isTrue();
        assertThat(faults.fires(TestAgent.CrashPoint.AGENT_AFTER_PREPARE)).isFalse();
    }
}
