package dev.xatm.core.view;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;

/**
 * A read-only copy of what the coordinator knows of one branch.
 *
 * @param bqual            the branch qualifier
 * @param resourceId       the database it runs on
 * @param agentId          where phase commands go now (the registering agent, or the last one that inquired)
 * @param registeredBy     the agent that registered it
 * @param agentState       whether that agent has a stream open now
 * @param phase            the coordinator's view of the branch (REGISTERED, PREPARING, PREPARED, READ_ONLY,
 *                         COMMITTING_ONE_PHASE, COMMITTING, ROLLING_BACK, COMMITTED, ROLLED_BACK, HEURISTIC;
 *                         3PC adds ASKED, WILLING, PRE_COMMITTING)
 * @param vote             its vote, or null before it voted
 * @param pending          the command sent and not yet answered, or null
 * @param attempts         how often that command was sent (resends included)
 * @param lastSentMillis   when it was last sent (driver clock), or -1
 * @param heuristic        the heuristic outcome its database reported, or null
 * @param decidedOnItsOwn  3PC: COMMIT or ROLLBACK if its participant decided the branch on its own when a
 *                         timer ran out (and reported it), else null
 */
public record BranchView(String bqual, String resourceId, String agentId, String registeredBy, AgentState agentState,
                         String phase, Vote vote, Action pending, int attempts, long lastSentMillis, AckResult heuristic,
                         Action decidedOnItsOwn) {

    public enum AgentState {
        CONNECTED,
        /** Its stream ended and it has not come back: commands for it wait. */
        GONE,
        /** Not seen since this coordinator started: it may still come (e.g. after a restart of ours). */
        NOT_SEEN
    }
}
