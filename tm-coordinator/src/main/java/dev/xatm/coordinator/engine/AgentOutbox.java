package dev.xatm.coordinator.engine;

import dev.xatm.core.Outbound;

/**
 * Where the loop puts phase commands for agents; implemented by the transport's agent registry.
 * {@link #send} must not block: it is called on the loop thread. A command for an agent that is not
 * connected is dropped, which is safe because the core resends every unanswered command (on its
 * retry schedule, and at once when the agent reconnects).
 */
public interface AgentOutbox {

    void send(Outbound command);

    /** Agents with an open stream right now. */
    int connectedAgents();
}
