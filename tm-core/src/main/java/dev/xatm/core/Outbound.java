package dev.xatm.core;

/**
 * A phase command for the agent that holds one branch. Fire and forget: the core resends until answered.
 *
 * @param participantTimeoutMillis for 3PC's CAN_COMMIT and PRE_COMMIT: how long the participant waits,
 *                                 after answering, for the next command before it decides on its own
 *                                 (rolls back after CAN_COMMIT, commits after PRE_COMMIT); 0 otherwise
 */
public record Outbound(String agentId, String gtrid, String bqual, Action action, long participantTimeoutMillis) {
    public Outbound(String agentId, String gtrid, String bqual, Action action) {
        this(agentId, gtrid, bqual, action, 0);
    }
}
