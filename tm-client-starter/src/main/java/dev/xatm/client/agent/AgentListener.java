package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchCommand;

/** What the agent reports for metrics and health. Implementations must be thread-safe and fast. */
public interface AgentListener {
    AgentListener NONE = new AgentListener() {};

    default void connected(String serverId) {}

    default void disconnected(String reason) {}

    /** Opens the observation of one branch command ({@code action}, a BranchCommand name) on this thread. */
    default dev.xatm.client.context.Observed observe(String action, String gtrid) {
        return dev.xatm.client.context.Observed.NONE;
    }

    /** A phase command ran; {@code nanos} is how long the XA work took. */
    default void commandExecuted(String action, String answer, long nanos) {}

    default void heuristic(String xid) {}

    /** 3PC: a participant timer ran out and the agent decided a branch on its own ({@code outcome} "commit" or "rollback"). */
    default void decidedOnItsOwn(String outcome) {}

    /** The periodic recovery sweep ran XA RECOVER on the resources. */
    default void recoverySweep() {}

    /**
     * A prepared branch was finished by xid on a fresh connection: {@code source} "sweep" (one the
     * recovery sweep found and asked about) or "in_doubt" (one whose XA call lost its answer).
     */
    default void settledByRecovery(String source) {}
}
