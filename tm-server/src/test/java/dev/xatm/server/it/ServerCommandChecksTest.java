package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.Vote;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The test agent's oracle on the server's commands: silent for a correct sequence, loud for each wrong one. */
class ServerCommandChecksTest {
    private final List<String> violations = new ArrayList<>();
    private final ServerCommandChecks checks = new ServerCommandChecks(violations::add);
    private final TmXid xid = new TmXid("it-x-1", "pg");

    private static PhaseCommand cmd(TmXid xid, PhaseAction a, long timeoutMs) {
        return PhaseCommand.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual()).setAction(a).setParticipantTimeoutMs(timeoutMs).build();
    }

    private static AgentMessage yesTo(TmXid xid, PhaseAction answering) {
        return AgentMessage.newBuilder().setVote(Vote.newBuilder().setGtrid(xid.gtrid()).setBqual(xid.bqual())
                .setVote(BranchVote.YES).setAnswering(answering)).build();
    }

    @Test
    void aCorrectThreePhaseSequenceIsNoViolation() {
        checks.begun(xid);
        checks.received(cmd(xid, PhaseAction.CAN_COMMIT, 3000), xid);
        checks.sent(yesTo(xid, PhaseAction.CAN_COMMIT));
        checks.received(cmd(xid, PhaseAction.PRE_COMMIT, 4000), xid);
        checks.received(cmd(xid, PhaseAction.PRE_COMMIT, 4000), xid); // a resend
        checks.received(cmd(xid, PhaseAction.COMMIT, 0), xid);
        assertThat(violations).isEmpty();
    }

    @Test
    void preCommitWithoutAYesToCanCommitIsAViolation() {
        checks.begun(xid);
        checks.received(cmd(xid, PhaseAction.CAN_COMMIT, 3000), xid);
        checks.received(cmd(xid, PhaseAction.PRE_COMMIT, 4000), xid);
        assertThat(violations).singleElement().asString().contains("never answered YES to CAN_COMMIT");
    }

    @Test
    void preCommitForABranchAnotherAgentInstanceBeganIsNotJudged() {
        checks.received(cmd(xid, PhaseAction.PRE_COMMIT, 4000), xid); // found by XA RECOVER after a restart
        assertThat(violations).isEmpty();
    }

    @Test
    void twoProtocolsOnOneBranchAreAViolation() {
        checks.received(cmd(xid, PhaseAction.PREPARE, 0), xid);
        checks.received(cmd(xid, PhaseAction.CAN_COMMIT, 3000), xid);
        assertThat(violations).singleElement().asString().contains("already got PREPARE (2PC)");
    }

    @Test
    void aThreePhaseCommandWithoutAParticipantTimeoutIsAViolation() {
        checks.received(cmd(xid, PhaseAction.CAN_COMMIT, 0), xid);
        assertThat(violations).singleElement().asString().contains("without a participant timeout");
    }
}
