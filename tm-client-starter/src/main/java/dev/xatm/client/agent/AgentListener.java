package dev.xatm.client.agent;

/** What the agent reports for metrics and health. Implementations must be thread-safe and fast. */
public interface AgentListener {
    AgentListener NONE = new AgentListener() {};

    default void connected(String serverId) {}

    default void disconnected(String reason) {}

    /** A phase command ran; {@code nanos} is how long the XA work took. */
    default void commandExecuted(String action, String answer, long nanos) {}

    default void heuristic(String xid) {}
}
