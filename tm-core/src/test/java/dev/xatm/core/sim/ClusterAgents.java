package dev.xatm.core.sim;

import dev.xatm.core.Branch;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The agents of a {@link SimCluster}: one {@link SimAgent} per database, each the thin driver of the
 * real participant core, with one stream to every coordinator node (server name {@code "node" + id}).
 * A branch's server is the node it registered with; the core answers on the stream a command came on,
 * rolls back the unprepared branches of a node whose stream ends ({@code Disconnected}), and sends
 * its inquiries to the branch's server while that stream is open, else to any open one, which answers
 * from the shared store. The databases report to one {@link Invariants}, whose durable decisions are
 * the store's COMMIT rows, so a branch named in a COMMIT row that rolls back, a mixed gtrid, an XA
 * COMMIT of an unprepared branch and a client told an outcome the databases contradict all fail the
 * run. Draws from the cluster's random source, so a seed replays. Not thread-safe.
 */
final class ClusterAgents {

    /** What the agents see of the rest of the simulated world. */
    interface World {
        long now();

        /** A message from agent {@code agent} on its stream to node {@code node}, through the network. */
        void toNode(int node, int agent, Event e);

        void note(String line);

        void count(String what);
    }

    private final List<SimAgent> agents = new ArrayList<>();
    private final List<SimDatabase> databases = new ArrayList<>();
    private final Invariants invariants;
    private final Map<String, Outcome> heard = new HashMap<>();
    private final SplittableRandom r;
    private final World world;

    ClusterAgents(HaOptions options, SplittableRandom r, SimStore store, World world) {
        this.r = r;
        this.world = world;
        this.invariants = new Invariants(new StoreDecisions(store));
        SimOptions faults = databaseFaults(options);
        SimAgent.World side = new SimAgent.World() {
            @Override
            public void send(int agent, Event e) {
                Invariants.fail("agent-" + agent + " sent " + e + " on no stream: every branch here has a node");
            }

            @Override
            public void send(int agent, String server, Event e) {
                world.toNode(nodeOf(server), agent, e);
            }

            @Override
            public void trace(String line) {
                world.note(line);
            }

            @Override
            public void count(String what) {
                world.count(what);
            }
        };
        for (int a = 0; a < options.agents(); a++) {
            SimDatabase db = new SimDatabase(invariants, r, faults);
            databases.add(db);
            // the sweep (XA RECOVER, overdue re-inquiries) a quarter of the re-inquiry interval apart: often
            // enough that a prepared branch is asked about again about on time, rare enough to keep 2,000 seeds fast
            long sweep = Math.max(SimAgent.SWEEP_TICKS, options.inquiryEveryTicks() / 4);
            agents.add(new SimAgent(a, db, null, false, options.inquiryEveryTicks(), sweep, UnaryOperator.identity(), side));
        }
    }

    static String server(int node) {
        return "node" + node;
    }

    static int nodeOf(String server) {
        return Integer.parseInt(server.substring("node".length()));
    }

    static String agentId(int agent) {
        return "agent-" + agent;
    }

    static String resourceId(int agent) {
        return "db-" + agent;
    }

    static int agentIndex(String agentId) {
        return Integer.parseInt(agentId.substring("agent-".length()));
    }

    int count() {
        return agents.size();
    }

    /**
     * The application starts the branch at its database (XA START) once node {@code node} accepted its
     * registration; 1 in 8 writes nothing (and so votes READ_ONLY), and the business code sometimes
     * holds it on for a while, so that a phase command is parked by the core.
     */
    void started(Branch branch, String gtrid, int node) {
        SimAgent agent = agents.get(agentIndex(branch.agentId()));
        agent.start(new BranchId(gtrid, branch.bqual()), r.nextInt(8) != 0, true, world.now(), server(node));
    }

    /** A phase command from node {@code node}, on that node's stream. */
    void command(int agent, int node, Outbound m) {
        agents.get(agent).command(server(node), m, world.now());
    }

    /** Node {@code node} refused the agent's message about {@code gtrid}. */
    void refused(int agent, int node, String gtrid, boolean notMine) {
        agents.get(agent).refused(server(node), gtrid, notMine, world.now());
    }

    /** Every agent's stream to node {@code node} is open (the node started, or woke and was reconnected to). */
    void connected(int node) {
        agents.forEach(a -> a.connected(server(node), world.now()));
    }

    /** Every agent's stream to node {@code node} ended (the node halted, or a keepalive gave up on it). */
    void disconnected(int node) {
        agents.forEach(a -> a.disconnected(server(node), world.now()));
    }

    /** Timers, lingering holds let go of, and each agent's recovery sweep (which re-inquires). */
    void tick() {
        agents.forEach(a -> a.tick(world.now()));
    }

    /** A client heard {@code outcome}; true the first time. Two outcomes, or one the databases contradict, fail the run. */
    boolean heard(String gtrid, Outcome outcome) {
        Outcome before = heard.putIfAbsent(gtrid, outcome);
        if (before != null && before != outcome) {
            Invariants.fail("client of " + gtrid + " heard " + before + " and then " + outcome);
        }
        invariants.told(gtrid, outcome);
        return before == null;
    }

    void checkEveryHeard() {
        heard.forEach(invariants::told);
    }

    /** No branch left active or prepared at any database, and no business code still holding one. */
    boolean settled() {
        return unsettled().isEmpty();
    }

    List<String> unsettled() {
        List<String> out = new ArrayList<>();
        for (int a = 0; a < databases.size(); a++) {
            int i = a;
            databases.get(a).open(null).forEach((x, state) -> out.add(resourceId(i) + " " + x + " " + state));
            if (agents.get(a).holdsAny()) {
                out.add(agentId(a) + " holds a branch");
            }
        }
        return out;
    }

    /** A SimDatabase's faults for this run: failed ENDs and PREPAREs only (no heuristics, no 1PC rollbacks). */
    private static SimOptions databaseFaults(HaOptions o) {
        SimOptions calm = SimOptions.calm(o.agents());
        return new SimOptions(o.agents(), 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, o.noVoteProbability(), 0, 0, 0, 0,
                o.agents(), calm.coordinator(), 0, 0, 0, 0);
    }

    /** The store's COMMIT rows are the durable decisions; the HA world has no PRE_COMMIT records (2PC only). */
    private record StoreDecisions(SimStore store) implements Invariants.Decisions {
        @Override
        public LogRecord.Decision durableDecision(String gtrid) {
            SimStore.Row row = store.decision(gtrid);
            return row == null ? null : row.record();
        }

        @Override
        public boolean durablePreCommit(String gtrid) {
            return false;
        }

        @Override
        public boolean everAppendedDecision(String gtrid) {
            return false;
        }
    }
}
