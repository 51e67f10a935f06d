package dev.xatm.client.autoconfigure;

import dev.xatm.client.agent.Agent;
import dev.xatm.client.enlist.BranchTable;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/** UP while the agent's stream to the coordinator is connected; DOWN with the reason otherwise. */
final class TmClientHealthIndicator implements HealthIndicator {
    private final Agent agent;
    private final BranchTable branches;

    TmClientHealthIndicator(Agent agent, BranchTable branches) {
        this.agent = agent;
        this.branches = branches;
    }

    @Override
    public Health health() {
        Health.Builder b = agent.isConnected() ? Health.up() : Health.down().withDetail("reason", String.valueOf(agent.lastError()));
        return b.withDetail("agentId", agent.agentId()).withDetail("liveBranches", branches.liveCount()).build();
    }
}
