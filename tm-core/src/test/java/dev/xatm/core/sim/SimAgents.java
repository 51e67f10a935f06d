package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.Event;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Vote;
import dev.xatm.core.cluster.LeaseRules;
import dev.xatm.core.cluster.NodeEpoch;
import dev.xatm.core.cluster.NodeRow;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The agents of a {@link SimCluster} and their databases: each agent holds one database's branches,
 * answers phase commands on the stream that carried them (to the node that sent them), rolls back the
 * unprepared branches of an owner incarnation that went away, and asks about the branches it holds
 * prepared. It also holds what clients heard, and checks as branches settle that no gtrid mixes
 * outcomes, that no branch commits unprepared, and that no client heard an outcome the databases
 * contradict. Draws from the cluster's random source, so a seed replays. Not thread-safe.
 */
final class SimAgents {

    /** What the agents see of the rest of the simulated world. */
    interface World {
        long now();

        /** A message from an agent to a node, through the simulated network. */
        void toNode(int node, Object payload);

        void fail(String why);

        void note(String line);
    }

    /** An agent's question about a prepared branch, to any node. */
    record Ask(String gtrid, String bqual, String resource, String agentId) {}

    private enum At { ACTIVE, PREPARED, COMMITTED, ROLLED_BACK }

    private static final class DbBranch {
        final String gtrid;
        final String bqual;
        final NodeEpoch owner;
        At at = At.ACTIVE;

        DbBranch(String gtrid, String bqual, NodeEpoch owner) {
            this.gtrid = gtrid;
            this.bqual = bqual;
            this.owner = owner;
        }
    }

    private final HaOptions options;
    private final SplittableRandom r;
    private final SimStore store;
    private final int nodeCount;
    private final World world;
    private final List<Map<String, DbBranch>> dbs = new ArrayList<>();
    private final Map<String, Outcome> heard = new HashMap<>();

    SimAgents(HaOptions options, SplittableRandom r, SimStore store, int nodeCount, World world) {
        this.options = options;
        this.r = r;
        this.store = store;
        this.nodeCount = nodeCount;
        this.world = world;
        for (int a = 0; a < options.agents(); a++) {
            dbs.add(new TreeMap<>());
        }
    }

    static String agentId(int agent) {
        return "a" + agent;
    }

    static int agentIndex(String agentId) {
        return Integer.parseInt(agentId.substring(1));
    }

    /** The application started the branch at its database (XA START), once its registration was accepted. */
    void started(Branch branch, String gtrid, NodeEpoch owner) {
        dbs.get(agentIndex(branch.agentId())).put(key(gtrid, branch.bqual()), new DbBranch(gtrid, branch.bqual(), owner));
    }

    /** The stream to {@code owner} ended (its process halted): its unprepared branches die with their sessions. */
    void ownerGone(NodeEpoch owner, String why) {
        for (int a = 0; a < dbs.size(); a++) {
            for (DbBranch b : dbs.get(a).values()) {
                if (b.at == At.ACTIVE && b.owner.equals(owner)) {
                    settle(a, b, At.ROLLED_BACK, why);
                }
            }
        }
    }

    /** A client heard {@code outcome}; true the first time. Hearing two outcomes fails the run. */
    boolean heard(String gtrid, Outcome outcome) {
        Outcome before = heard.putIfAbsent(gtrid, outcome);
        if (before != null && before != outcome) {
            world.fail("client of " + gtrid + " heard " + before + " and then " + outcome);
        }
        checkHeard(gtrid);
        return before == null;
    }

    void checkEveryHeard() {
        heard.keySet().forEach(this::checkHeard);
    }

    /** No branch left active or prepared at any database. */
    boolean settled() {
        return unsettled().isEmpty();
    }

    List<String> unsettled() {
        List<String> out = new ArrayList<>();
        for (int a = 0; a < dbs.size(); a++) {
            for (DbBranch b : dbs.get(a).values()) {
                if (b.at == At.ACTIVE || b.at == At.PREPARED) {
                    out.add("db" + a + " " + b.gtrid + "/" + b.bqual + " " + b.at);
                }
            }
        }
        return out;
    }

    void command(int agent, Outbound m, int fromNode) {
        DbBranch b = dbs.get(agent).get(key(m.gtrid(), m.bqual()));
        String id = agentId(agent);
        switch (m.action()) {
            case PREPARE -> {
                Vote vote;
                if (b == null || b.at == At.ROLLED_BACK) {
                    vote = Vote.NO;
                } else if (b.at == At.ACTIVE && r.nextDouble() < options.noVoteProbability()) {
                    settle(agent, b, At.ROLLED_BACK, "PREPARE failed");
                    vote = Vote.NO;
                } else {
                    if (b.at == At.ACTIVE) {
                        b.at = At.PREPARED;
                    }
                    vote = Vote.YES;
                }
                world.toNode(fromNode, new Event.VoteReceived(m.gtrid(), m.bqual(), vote, id));
            }
            case COMMIT -> {
                if (b == null || b.at == At.ACTIVE || b.at == At.ROLLED_BACK) {
                    world.fail("COMMIT of " + m.gtrid() + "/" + m.bqual() + " at " + id + " whose branch is " + (b == null ? "unknown" : b.at));
                }
                settle(agent, b, At.COMMITTED, "COMMIT");
                world.toNode(fromNode, new Event.AckReceived(m.gtrid(), m.bqual(), Action.COMMIT, AckResult.DONE, id));
            }
            case ROLLBACK -> {
                if (b != null && b.at == At.COMMITTED) {
                    world.fail("ROLLBACK of " + m.gtrid() + "/" + m.bqual() + " at " + id + ", which is committed");
                }
                if (b != null) {
                    settle(agent, b, At.ROLLED_BACK, "ROLLBACK");
                }
                world.toNode(fromNode, new Event.AckReceived(m.gtrid(), m.bqual(), Action.ROLLBACK, AckResult.DONE, id));
            }
            case COMMIT_ONE_PHASE -> {
                AckResult result;
                if (b == null || b.at == At.ROLLED_BACK) {
                    result = AckResult.ROLLED_BACK_INSTEAD;
                } else {
                    settle(agent, b, At.COMMITTED, "COMMIT ONE PHASE");
                    result = AckResult.DONE;
                }
                world.toNode(fromNode, new Event.AckReceived(m.gtrid(), m.bqual(), Action.COMMIT_ONE_PHASE, result, id));
            }
            default -> world.fail("a 2PC run got " + m.action());
        }
    }

    /**
     * The agent's periodic round: it asks about every branch it holds prepared (of the owner while the
     * member list shows that incarnation live, else of any member), and rolls back an unprepared branch
     * whose owner incarnation is gone from the list (taken over or restarted): it can never commit.
     */
    void round(int agent) {
        List<Integer> live = new ArrayList<>();
        for (NodeRow row : store.nodes()) {
            if (LeaseRules.live(row, world.now())) {
                live.add(row.nodeId());
            }
        }
        for (DbBranch b : List.copyOf(dbs.get(agent).values())) {
            NodeRow ownerRow = store.node(b.owner.nodeId());
            boolean ownerListed = ownerRow != null && ownerRow.epoch() == b.owner.epoch() && LeaseRules.live(ownerRow, world.now());
            boolean ownerGone = ownerRow == null || ownerRow.epoch() != b.owner.epoch() || ownerRow.takenBy() != 0;
            if (b.at == At.ACTIVE && ownerGone) {
                settle(agent, b, At.ROLLED_BACK, "its owner left the member list");
            } else if (b.at == At.PREPARED) {
                int target = ownerListed || live.isEmpty() ? (ownerListed ? b.owner.nodeId() : r.nextInt(1, nodeCount + 1))
                        : live.get(r.nextInt(live.size()));
                world.toNode(target, new Ask(b.gtrid, b.bqual, "db" + agent, agentId(agent)));
            }
        }
    }

    private void settle(int agent, DbBranch b, At to, String why) {
        if (b.at == to) {
            return;
        }
        world.note("db" + agent + " " + b.gtrid + "/" + b.bqual + " " + b.at + " -> " + to + " (" + why + ")");
        b.at = to;
        if (to == At.COMMITTED || to == At.ROLLED_BACK) {
            At other = to == At.COMMITTED ? At.ROLLED_BACK : At.COMMITTED;
            for (Map<String, DbBranch> db : dbs) {
                for (DbBranch x : db.values()) {
                    if (x.gtrid.equals(b.gtrid) && x.at == other) {
                        world.fail("not atomic: " + b.gtrid + " has a branch " + to + " and another " + other);
                    }
                }
            }
            checkHeard(b.gtrid);
        }
    }

    private void checkHeard(String gtrid) {
        Outcome told = heard.get(gtrid);
        if (told == null) {
            return;
        }
        for (Map<String, DbBranch> db : dbs) {
            for (DbBranch x : db.values()) {
                if (x.gtrid.equals(gtrid) && ((told == Outcome.COMMITTED && x.at == At.ROLLED_BACK)
                        || (told != Outcome.COMMITTED && x.at == At.COMMITTED))) {
                    world.fail("client of " + gtrid + " heard " + told + " but branch " + x.bqual + " is " + x.at);
                }
            }
        }
    }

    private static String key(String gtrid, String bqual) {
        return gtrid + "/" + bqual;
    }
}
