package dev.xatm.client.autoconfigure;

import dev.xatm.client.agent.Agent;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the agent's streams with the context and closes them on shutdown. Its phase puts it before the
 * web server at start and after it at shutdown, so requests still running can finish their branches;
 * and after an embedded coordinator's network listener (tm-server's GrpcServer, DEFAULT_PHASE - 4096)
 * at start and before it at shutdown, so the agent leaves before its coordinator closes the streams.
 */
final class AgentLifecycle implements SmartLifecycle {
    private final Agent agent;
    private volatile boolean running;

    AgentLifecycle(Agent agent) {
        this.agent = agent;
    }

    @Override
    public void start() {
        agent.start();
        running = true;
    }

    @Override
    public void stop() {
        agent.close();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4000;
    }
}
