package dev.xatm.client.agent;

/**
 * The agent's settings from tm.client.*, validated there.
 *
 * @param callTimeoutMillis      deadline of the agent's own unary calls (Resume, Members)
 * @param resumeIntervalMillis   how often prepared branches of an unreachable owner are asked about again
 * @param membersRefreshMillis   how often a connected server is asked for the cluster's members
 * @param recoveryIntervalMillis how often the recovery sweep runs XA RECOVER on every resource
 * @param recoverySafetyMillis   how long a prepared branch nobody here holds must have been listed before
 *                               the sweep asks about it (longer than any PREPARE-to-decision window)
 * @param recoverLegacyXids      whether recovery also takes prepared branches whose gtrid names no cluster id
 *                               (minted before cluster ids) when they carry this agent's gtrid prefix
 *                               (tm.client.recover-legacy-xids; off by default, see docs/operations.md)
 */
public record AgentSettings(String agentId, String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads,
                            long callTimeoutMillis, long resumeIntervalMillis, long membersRefreshMillis,
                            long recoveryIntervalMillis, long recoverySafetyMillis, boolean recoverLegacyXids) {
    public static final long DEFAULT_RECOVERY_INTERVAL_MILLIS = 30_000;
    public static final long DEFAULT_RECOVERY_SAFETY_MILLIS = 60_000;

    public AgentSettings {
        if (backoffInitialMillis <= 0 || backoffMaxMillis < backoffInitialMillis || threads <= 0 || callTimeoutMillis <= 0
                || resumeIntervalMillis <= 0 || membersRefreshMillis <= 0 || recoveryIntervalMillis <= 0 || recoverySafetyMillis < 0) {
            throw new IllegalArgumentException("invalid agent settings: " + this);
        }
    }

    /** With the default recovery sweep (every 30 s, 60 s safety interval). */
    public AgentSettings(String agentId, String gtridPrefix, long backoffInitialMillis, long backoffMaxMillis, int threads,
                         long callTimeoutMillis, long resumeIntervalMillis, long membersRefreshMillis) {
        this(agentId, gtridPrefix, backoffInitialMillis, backoffMaxMillis, threads, callTimeoutMillis, resumeIntervalMillis,
                membersRefreshMillis, DEFAULT_RECOVERY_INTERVAL_MILLIS, DEFAULT_RECOVERY_SAFETY_MILLIS, false);
    }

    /** The same settings with another recovery sweep. */
    public AgentSettings withRecovery(long intervalMillis, long safetyMillis) {
        return new AgentSettings(agentId, gtridPrefix, backoffInitialMillis, backoffMaxMillis, threads, callTimeoutMillis,
                resumeIntervalMillis, membersRefreshMillis, intervalMillis, safetyMillis, recoverLegacyXids);
    }

    /** The same settings, also recovering branches minted before cluster ids when {@code recover}. */
    public AgentSettings withLegacyRecovery(boolean recover) {
        return new AgentSettings(agentId, gtridPrefix, backoffInitialMillis, backoffMaxMillis, threads, callTimeoutMillis,
                resumeIntervalMillis, membersRefreshMillis, recoveryIntervalMillis, recoverySafetyMillis, recover);
    }
}
