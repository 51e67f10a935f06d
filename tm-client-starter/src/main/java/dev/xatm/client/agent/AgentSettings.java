package dev.xatm.client.agent;

/**
 * The agent's settings from tm.client.*, validated there.
 *
 * @param callTimeoutMillis     deadline of the agent's own unary calls (Resume, Members)
 * @param resumeIntervalMillis  how often prepared branches of an unreachable owner are asked about again
 * @param membersRefreshMillis  how often a connected server is asked for the cluster's members
 * @param recoverLegacyXids     whether recovery also takes prepared branches whose gtrid names no cluster id
 *                              (minted before cluster ids) when they carry this agent's gtrid prefix
 *                              (tm.client.recover-legacy-xids; off by default, see docs/operations.md)
 */
public record AgentSettings(String agentId, String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads,
                            long callTimeoutMillis, long resumeIntervalMillis, long membersRefreshMillis, boolean recoverLegacyXids) {

    /** Without legacy recovery. */
    public AgentSettings(String agentId, String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads,
                         long callTimeoutMillis, long resumeIntervalMillis, long membersRefreshMillis) {
        this(agentId, gtridPrefix, backoffInitialMillis, backoffMaxMillis, threads, callTimeoutMillis, resumeIntervalMillis,
                membersRefreshMillis, false);
    }

    public AgentSettings {
        if (backoffInitialMillis <= 0 || backoffMaxMillis < backoffInitialMillis || threads <= 0 || callTimeoutMillis <= 0
                || resumeIntervalMillis <= 0 || membersRefreshMillis <= 0) {
            throw new IllegalArgumentException("invalid agent settings: " + this);
        }
    }
}
