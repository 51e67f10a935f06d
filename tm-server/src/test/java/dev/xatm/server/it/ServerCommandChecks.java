package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.BranchVote;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.PhaseCommand;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The test's oracle on the server's commands, beside the participant core's own problems (a COMMIT
 * for an unprepared or rolled-back branch...): what the core would simply answer, but a correct
 * server never sends. It decides nothing for the agent; it only reports {@link TestAgent#violations()}:
 * <ul>
 *   <li>2PC and 3PC commands on one branch (PREPARE, then CAN_COMMIT or PRE_COMMIT, or the reverse);</li>
 *   <li>PRE_COMMIT for a branch this agent began and never answered YES to CAN_COMMIT;</li>
 *   <li>CAN_COMMIT or PRE_COMMIT without a participant timeout.</li>
 * </ul>
 * Thread-safe.
 */
final class ServerCommandChecks {
    private final Consumer<String> violation;
    private final Set<TmXid> begun = ConcurrentHashMap.newKeySet();
    private final Set<TmXid> willing = ConcurrentHashMap.newKeySet();
    /** The first phase-one command each branch got: PREPARE (2PC) or CAN_COMMIT / PRE_COMMIT (3PC). */
    private final Map<TmXid, Boolean> threePhase = new ConcurrentHashMap<>();

    ServerCommandChecks(Consumer<String> violation) {
        this.violation = violation;
    }

    void begun(TmXid xid) {
        begun.add(xid);
    }

    /** The agent's own message: a YES to CAN_COMMIT makes the branch ready for PRE_COMMIT. */
    void sent(AgentMessage m) {
        if (m.hasVote() && m.getVote().getAnswering() == PhaseAction.CAN_COMMIT && m.getVote().getVote() == BranchVote.YES) {
            willing.add(new TmXid(m.getVote().getGtrid(), m.getVote().getBqual()));
        }
    }

    void received(PhaseCommand c, TmXid xid) {
        PhaseAction a = c.getAction();
        boolean phaseOne3 = a == PhaseAction.CAN_COMMIT || a == PhaseAction.PRE_COMMIT;
        if (phaseOne3 || a == PhaseAction.PREPARE) {
            Boolean first = threePhase.putIfAbsent(xid, phaseOne3);
            if (first != null && first != phaseOne3) {
                violation.accept(a + " for " + xid + ", which already got " + (first ? "CAN_COMMIT (3PC)" : "PREPARE (2PC)"));
            }
        }
        if (phaseOne3 && c.getParticipantTimeoutMs() <= 0) {
            violation.accept(a + " for " + xid + " without a participant timeout");
        }
        if (a == PhaseAction.PRE_COMMIT && begun.contains(xid) && !willing.contains(xid)) {
            violation.accept("PRE_COMMIT for " + xid + ", which never answered YES to CAN_COMMIT");
        }
    }
}
