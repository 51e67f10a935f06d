package dev.xatm.core.commit;

import java.util.Set;

/**
 * Who may vote for, or acknowledge, a branch. Every agent shares one client token, so a vote or
 * acknowledgement names its sender only by the stream it came on; without this check any agent could
 * vote YES for a branch that never prepared, or acknowledge a COMMIT its database never ran, and so
 * finish a transaction one of whose branches did not: an atomicity break.
 *
 * <p>The branch's holder may always speak for it: the agent that registered it, or the one the
 * inquiry rules moved it to when that agent was gone (rule 9, {@link BranchProgress#routeTo}). An
 * agent whose inquiry was answered with the branch's outcome (it found the branch prepared by XA
 * RECOVER) may also acknowledge it, but only while the holder is not connected: a restarted process
 * with a new agent id, or an instance that recovers for a dead one. While the holder is connected it
 * finishes the branch itself (a MariaDB branch may be bound to its session anyway), and the other
 * agent's acknowledgement is not needed: the holder's next resend finds the branch done.
 *
 * <p>Pure; reads the coordinator's set of connected agents, which it never changes. Not thread-safe.
 */
final class Speakers {
    private final Set<String> connectedAgents;

    Speakers(Set<String> connectedAgents) {
        this.connectedAgents = connectedAgents;
    }

    /** Votes answer commands that only ever go to the holder. */
    boolean mayVote(BranchProgress b, String agentId) {
        return holds(b, agentId);
    }

    boolean mayAck(BranchProgress b, String agentId) {
        return holds(b, agentId) || (b.wasAnswered(agentId) && !connectedAgents.contains(b.agentId()));
    }

    /** The agent commands go to now, or the one that registered the branch (it may still finish work it began). */
    private static boolean holds(BranchProgress b, String agentId) {
        return agentId.equals(b.agentId()) || agentId.equals(b.branch().agentId());
    }
}
