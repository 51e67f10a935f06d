package dev.xatm.server.transport;

import dev.xatm.core.Outbound;
import dev.xatm.server.engine.AgentOutbox;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The current Connect stream of each agent, keyed by agent id. A newer stream with the same id
 * replaces the older one, and only the end of the current stream counts as the agent leaving.
 *
 * <p>{@link #connect} and {@link #disconnect} run their announcement (the event for the loop) under
 * the registry's lock, so the loop sees connects and disconnects of one agent in the order the
 * registry applied them: otherwise an old stream's late "disconnected" could arrive after the new
 * stream's "connected" and the core would believe a connected agent gone. {@link #send} takes no
 * lock: it is called on the loop thread and must not wait for gRPC threads.
 */
public final class AgentRegistry implements AgentOutbox {
    private static final Logger log = LoggerFactory.getLogger(AgentRegistry.class);
    private final ConcurrentHashMap<String, AgentSession> sessions = new ConcurrentHashMap<>();

    /** Makes {@code session} the agent's current stream; returns the one it replaced, or null. */
    synchronized AgentSession connect(AgentSession session, Runnable announce) {
        AgentSession previous = sessions.put(session.agentId(), session);
        announce.run();
        return previous;
    }

    /** Forgets {@code session} if it is still the agent's current stream; true if it was. */
    synchronized boolean disconnect(AgentSession session, Runnable announce) {
        if (session.agentId() != null && sessions.remove(session.agentId(), session)) {
            announce.run();
            return true;
        }
        return false;
    }

    @Override
    public void send(Outbound command) {
        AgentSession session = sessions.get(command.agentId());
        if (session == null) {
            log.debug("Agent {} not connected; {} for {}/{} waits for its reconnect or the next resend",
                    command.agentId(), command.action(), command.gtrid(), command.bqual());
            return;
        }
        session.sendCommand(command);
    }

    @Override
    public int connectedAgents() {
        return sessions.size();
    }

    /** Ends every agent stream (server shutdown); agents reconnect to the next incarnation. */
    void closeAll(Status status) {
        for (AgentSession s : List.copyOf(sessions.values())) {
            s.close(status);
        }
        sessions.clear();
    }
}
