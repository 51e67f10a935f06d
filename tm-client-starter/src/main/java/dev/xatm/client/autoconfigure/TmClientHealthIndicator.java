package dev.xatm.client.autoconfigure;

import dev.xatm.client.agent.Agent;
import dev.xatm.client.enlist.BranchTable;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * UP while the agent has a connected stream to at least one tm-server; DOWN with the reasons
 * otherwise. Lists every link (address, node id and epoch from its Welcome, connected or why not):
 * with several servers, a link that is down means the gtrids its server owns cannot be committed from
 * here until it is back (or taken over). Also shows the branches held in doubt (an XA call lost its
 * answer with the connection, so the database may hold them prepared until the agent's retries by
 * xid get through) and the oldest one's age: one that keeps growing needs a look.
 */
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
        List<Map<String, Object>> links = new ArrayList<>();
        for (Agent.LinkStatus l : agent.links()) {
            Map<String, Object> link = new LinkedHashMap<>();
            link.put("address", l.address());
            link.put("nodeId", l.nodeId());
            link.put("epoch", l.epoch());
            link.put("connected", l.connected());
            if (!l.connected()) {
                link.put("reason", String.valueOf(l.lastError()));
            }
            links.add(link);
        }
        // the deployment's cluster id, as the servers announced it: every gtrid minted here names it
        b.withDetail("clusterId", agent.clusterId().map(c -> c.value()).orElse("not known yet"));
        // in doubt: the database may hold these prepared (their XA call lost its answer); the agent is finishing them by xid
        return b.withDetail("agentId", agent.agentId()).withDetail("links", links).withDetail("liveBranches", branches.liveCount())
                .withDetail("inDoubtBranches", agent.inDoubtCount())
                .withDetail("oldestInDoubtAge", Duration.ofMillis(agent.oldestInDoubtMillis()).toString())
                .build();
    }
}
