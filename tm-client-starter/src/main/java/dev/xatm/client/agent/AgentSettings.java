package dev.xatm.client.agent;

/**
 * The agent's settings from tm.client.*, validated there.
 *
 * @param callTimeoutMillis     deadline of the agent's own unary calls (Resume, Members)
 * @param resumeIntervalMillis  how often prepared branches of an unreachable owner are asked about again
 * @param membersRefreshMillis  how often a connected server is asked for the cluster's members
 */
public record AgentSettings(String agentId, String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads,
                            long callTimeoutMillis, long resumeIntervalMillis, long membersRefreshMillis) {
    public AgentSettings {
        if (backoffInitialMillis <= 0 || backoffMaxMillis < backoffInitialMillis || threads <= 0 || callTimeoutMillis <= 0
                || resumeIntervalMillis <= 0 || membersRefreshMillis <= 0) {
            throw new IllegalArgumentException("invalid agent settings: " + this);
        }
    }
}
