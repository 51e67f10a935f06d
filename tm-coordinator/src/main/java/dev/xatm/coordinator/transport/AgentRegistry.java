package dev.xatm.coordinator.transport;

import dev.xatm.core.Outbound;
import dev.xatm.coordinator.engine.AgentOutbox;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The current Connect stream of each agent, keyed by agent id. A newer stream with the same id
 * replaces the older one only when it proves the same agent process (the same instance secret in its
 * Hello): the process reconnecting, e.g. after a network cut that the server has not noticed yet.
 * A stream with another secret is refused while the current one is alive, so a holder of the shared
 * client token cannot take over another agent's commands. Only the end of the current stream counts
 * as the agent leaving; then any process may claim the id again.
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

    /** What a Hello achieved: refused (a live stream of another process holds the id), or admitted, replacing {@code replaced} (or none). */
    record Admission(boolean admitted, AgentSession replaced) {
        static final Admission REFUSED = new Admission(false, null);
    }

    /**
     * Makes {@code session} the agent's current stream, unless a live stream of the same agent id was
     * opened with another instance secret; {@code announce} runs only when admitted.
     */
    synchronized Admission connect(AgentSession session, Runnable announce) {
        AgentSession current = sessions.get(session.agentId());
        if (current != null && current != session && !current.secret().sameAs(session.secret())) {
            return Admission.REFUSED;
        }
        sessions.put(session.agentId(), session);
        announce.run();
        return new Admission(true, current);
    }

    /** Whether a call naming {@code agentId} and carrying {@code secret} comes from that agent's process. */
    enum Proof {
        /** A live stream of the agent was opened with this secret. */
        PROVEN,
        /** No live stream of the agent here: nothing to prove against (the core refuses what needs one). */
        NO_STREAM,
        /** A live stream of the agent was opened with another secret: someone else speaks in its name. */
        OTHER_INSTANCE
    }

    Proof prove(String agentId, String secret) {
        AgentSession current = sessions.get(agentId);
        if (current == null) {
            return Proof.NO_STREAM;
        }
        return current.secret().matches(secret) ? Proof.PROVEN : Proof.OTHER_INSTANCE;
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
