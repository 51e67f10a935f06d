package dev.xatm.core.participant;

import java.util.List;

/**
 * What a participant is configured with.
 *
 * @param agentId             the agent's id, stamped on everything it sends
 * @param resources           the databases it holds branches on (XA RECOVER runs on each)
 * @param readOnlyVotes       a branch that provably wrote nothing finishes itself at PREPARE (and at
 *                            CAN_COMMIT) and votes READ_ONLY
 * @param reinquireMillis     a prepared branch nobody spoke of for this long is asked about again at
 *                            the next sweep
 * @param clusterId           the deployment whose branches recovery takes up; null: every branch
 *                            XA RECOVER lists
 * @param asksAboutEverything recovery ignores {@code clusterId} (a misconfigured or older agent): only a
 *                            coordinator's "not mine" keeps it off another deployment's branches
 * @param finishedMemory      how many cleanly finished branches (committed, rolled back, read-only) are
 *                            remembered to answer resent commands, oldest forgotten first (the agent's
 *                            {@code finished-branch-memory}); also the bound on own-decision reports
 *                            waiting for a stream
 */
public record ParticipantConfig(String agentId, List<String> resources, boolean readOnlyVotes, long reinquireMillis,
                                String clusterId, boolean asksAboutEverything, int finishedMemory) {
    /** The agent's default {@code finished-branch-memory}. */
    public static final int DEFAULT_FINISHED_MEMORY = 10_000;

    public ParticipantConfig {
        resources = List.copyOf(resources);
        if (reinquireMillis <= 0) {
            throw new IllegalArgumentException("reinquireMillis must be > 0, got " + reinquireMillis);
        }
        if (finishedMemory < 1) {
            throw new IllegalArgumentException("finishedMemory must be >= 1, got " + finishedMemory);
        }
    }

    /** With the default finished memory. */
    public ParticipantConfig(String agentId, List<String> resources, boolean readOnlyVotes, long reinquireMillis,
                             String clusterId, boolean asksAboutEverything) {
        this(agentId, resources, readOnlyVotes, reinquireMillis, clusterId, asksAboutEverything, DEFAULT_FINISHED_MEMORY);
    }

    /** One agent of one deployment, read-only votes on. */
    public static ParticipantConfig of(String agentId, List<String> resources, long reinquireMillis) {
        return new ParticipantConfig(agentId, resources, true, reinquireMillis, null, false, DEFAULT_FINISHED_MEMORY);
    }
}
