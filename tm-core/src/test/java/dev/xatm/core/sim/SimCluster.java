package dev.xatm.core.sim;

import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.cluster.LeaseRules;
import dev.xatm.core.cluster.NodeEpoch;
import dev.xatm.core.cluster.NodeRow;
import dev.xatm.core.cluster.OwnerRule;
import dev.xatm.core.cluster.StoreRules;
import dev.xatm.core.cluster.Verdict;
import dev.xatm.core.commit.Coordinator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Several real {@link Coordinator} cores, one per node, on one simulated shared store
 * ({@link SimStore}), driven the way tm-coordinator drives them on the JDBC store: a lease renewed
 * every ttl/4 (a fenced renewal halts the node), the other nodes watched every ttl/2 and an expired
 * one taken over ({@code Event.Adopted}), rule R2 at the door, rule R4 for an inquiry about a gtrid the
 * asked node does not hold (the owner's row read first, the decision row a little later, the verdict
 * fed to the core as {@code Event.StoreVerdict}). The agents ({@link ClusterAgents}) run the real
 * participant core, one stream per node: its {@code Outgoing(server, ...)} go to the named node, its
 * {@code Connected}/{@code Disconnected} follow the streams (a node's start, its halt, and a keepalive
 * that gives up on a node frozen for ttl/2, which on waking hears its agents go and come back), and its
 * inquiries go to the branch's node while that stream is open, else to another open node, which
 * answers from the store. Faults: frozen nodes (they stop stepping and wake with a stale epoch),
 * crashes (statements not yet sent are lost, but for a random prefix), delayed and reordered messages
 * and statements; messages die with their stream. Everything is drawn from one {@link SplittableRandom},
 * so a seed replays.
 *
 * <p>Invariants, checked as things happen: no gtrid is told COMMIT by one node and ROLLBACK by another
 * (nor has a COMMIT row and a ROLLBACK); no write of a taken-over incarnation ever lands in the store;
 * and {@link Invariants} over the databases, with the store's COMMIT rows as the durable decisions: no
 * gtrid with one branch committed and another rolled back, no branch named in a COMMIT row rolled back,
 * no XA COMMIT of an unprepared branch, no client told an outcome the databases contradict. After healing, every
 * transaction converges: every branch committed or rolled back and no node holds a live transaction.
 * Not thread-safe.
 */
final class SimCluster {
    static final int QUIET_MAX_TICKS = 10_000;
    private static final int TRACE_LINES = 300;

    private enum Mode { RUNNING, FROZEN, DOWN }

    /** {@code node > 0}: to that node; {@code node < 0}: to agent {@code agent} from node {@code -node}; {@code stream}: the stream's generation, -1 for a client's. */
    private record Msg(long due, long seq, int node, int agent, long stream, Object payload) {}

    /** A message of an agent's participant core on its stream to a node (generation {@code stream}). */
    private record FromAgent(int agent, long stream, Event event) {}

    private record ClientBegin(String gtrid, List<Branch> branches, long deadline, long commitAt) {}

    private record ClientCommit(String gtrid) {}

    private record Stmt(long due, LogRecord record) {}

    private record Read(long due, Event.Inquiry ask, NodeRow ownerRow) {}

    private static final class Node {
        final int id;
        NodeEpoch self;
        Coordinator core;
        Mode mode = Mode.DOWN;
        long until;
        long nextRenew;
        long nextWatch;
        long frozenAt;
        /** The agents' streams to this node: open, and their generation (a message of an older one died with it). */
        boolean streamsOpen;
        long stream;
        final ArrayDeque<Object> inbox = new ArrayDeque<>();
        final ArrayDeque<Stmt> stmts = new ArrayDeque<>();
        final List<Read> reads = new ArrayList<>();

        Node(int id) {
            this.id = id;
        }
    }

    final long seed;
    final HaOptions o;
    private final SplittableRandom r;
    private final SimStore store;
    private final List<Node> nodes = new ArrayList<>();
    private final ClusterAgents agents;
    /** Agents give up on a frozen node's streams after this long (keepalive), well before its lease can be taken over. */
    private final long keepaliveTicks;
    private final PriorityQueue<Msg> net = new PriorityQueue<>((a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    private final Map<Long, List<Integer>> clientStarts = new TreeMap<>();
    private final Map<Long, List<String>> clientCommits = new TreeMap<>();
    private final Map<String, NodeEpoch> ownerOf = new HashMap<>();
    private final Map<String, EnumSet<Action>> told = new HashMap<>();
    private final Set<NodeEpoch> takenOver = new HashSet<>();
    private final Map<String, Integer> stats = new TreeMap<>();
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    private final boolean printTrace = Boolean.getBoolean("tm.sim.trace");
    private long now;
    private long seq;
    private long ticksToQuiet;
    /** The -Dtest selector a failure's replay command names. */
    private String replayTest = "HaSimulationTest#severalNodesOnOneStoreNeverDisagreeNeverLandAFencedWriteAndConverge";

    SimCluster(long seed) {
        this(seed, HaOptions.random(new SplittableRandom(seed)));
    }

    SimCluster(long seed, HaOptions options) {
        this.seed = seed;
        this.o = options;
        this.r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        this.store = new SimStore(options.takeover());
        for (int i = 1; i <= o.nodes(); i++) {
            nodes.add(new Node(i));
        }
        this.keepaliveTicks = Math.max(1, o.leaseTtlTicks() / 2);
        this.agents = new ClusterAgents(o, r, store, new ClusterAgents.World() {
            @Override
            public long now() {
                return now;
            }

            @Override
            public void toNode(int node, int agent, Event e) {
                Node n = nodes.get(node - 1);
                if (n.streamsOpen) {
                    send(node, agent, n.stream, new FromAgent(agent, n.stream, e));
                } else {
                    count("agent message on a closed stream, dropped");
                }
            }

            @Override
            public void note(String line) {
                SimCluster.this.note(line);
            }

            @Override
            public void count(String what) {
                SimCluster.this.count(what);
            }
        });
        for (int c = 0; c < o.clients(); c++) {
            clientStarts.computeIfAbsent((long) r.nextInt(1, o.faultTicks() - 100), k -> new ArrayList<>()).add(c);
        }
    }

    /** Names the test whose replay command a failure prints (a test that plants a bug replays itself). */
    SimCluster replayAs(String testSelector) {
        this.replayTest = testSelector;
        return this;
    }

    Map<String, Integer> stats() {
        return stats;
    }

    long ticksToQuiet() {
        return ticksToQuiet;
    }

    /** Faults for {@code faultTicks}, then healing until quiet; throws AssertionError on any violation. */
    void run() {
        try {
            runChecked();
        } catch (Invariants.Violation v) {
            fail(v.getMessage());
        }
    }

    private void runChecked() {
        for (Node n : nodes) {
            start(n);
        }
        while (now < o.faultTicks()) {
            tick(true);
        }
        for (Node n : nodes) {
            if (n.mode == Mode.FROZEN) {
                n.until = now;
            } else if (n.mode == Mode.DOWN) {
                n.until = Math.min(n.until, now + 50);
            }
        }
        long healedAt = now;
        while (!quiet()) {
            if (now - healedAt > QUIET_MAX_TICKS) {
                fail("not quiet " + QUIET_MAX_TICKS + " ticks after healing: " + unsettled());
            }
            tick(false);
        }
        ticksToQuiet = now - healedAt;
        agents.checkEveryHeard();
        count("runs quiet after healing");
    }

    private void tick(boolean faults) {
        now++;
        for (Node n : nodes) {
            if (faults && n.mode == Mode.RUNNING && r.nextDouble() < o.freezePerTick()) {
                n.mode = Mode.FROZEN;
                n.frozenAt = now;
                n.until = now + r.nextInt(1, o.freezeMaxTicks() + 1);
                note("node " + n.id + " (" + n.self + ") frozen until " + n.until);
                count("node frozen");
            } else if (faults && n.mode == Mode.RUNNING && r.nextDouble() < o.crashPerTick()) {
                crash(n);
            } else if (n.mode == Mode.FROZEN && n.until <= now) {
                n.mode = Mode.RUNNING;
                note("node " + n.id + " (" + n.self + ") wakes" + (n.streamsOpen ? "" : ", its agents' streams ended"));
                if (!n.streamsOpen) {
                    reconnect(n);
                }
                while (n.mode == Mode.RUNNING && !n.inbox.isEmpty()) {
                    handle(n, n.inbox.poll());
                }
            } else if (n.mode == Mode.DOWN && n.until <= now) {
                start(n);
            } else if (n.mode == Mode.FROZEN && n.streamsOpen && now - n.frozenAt >= keepaliveTicks) {
                // gRPC keepalive: a process that stopped answering pings loses its streams; the agents
                // roll back its unprepared branches and ask another node about its prepared ones
                note("agents' keepalive ends their streams to frozen node " + n.id + " (" + n.self + ")");
                count("streams to a frozen node ended by keepalive");
                closeStreams(n);
            }
        }
        for (int c : clientStarts.getOrDefault(now, List.of())) {
            begin(c);
        }
        for (String gtrid : clientCommits.getOrDefault(now, List.of())) {
            send(ownerOf.get(gtrid).nodeId(), -1, -1, new ClientCommit(gtrid));
        }
        while (!net.isEmpty() && net.peek().due() <= now) {
            Msg m = net.poll();
            if (m.node() > 0) {
                deliver(nodes.get(m.node() - 1), m.payload());
            } else {
                toAgent(m);
            }
        }
        for (Node n : nodes) {
            if (n.mode == Mode.RUNNING) {
                runNode(n);
            }
        }
        agents.tick();
    }

    // ---- nodes ----

    private void start(Node n) {
        n.self = store.claim(n.id, now, o.leaseTtlTicks());
        n.core = Coordinator.restore(o.coordinator(), store.openRecords(n.id), now);
        n.mode = Mode.RUNNING;
        n.nextRenew = now + o.leaseTtlTicks() / 4;
        n.nextWatch = now + o.leaseTtlTicks() / 2;
        note("node " + n.id + " starts as " + n.self);
        step(n, new Event.Tick(now));
        openStreams(n);
    }

    /** Every agent connects to the node: the core hears it first, then each agent's core (which inquires). */
    private void openStreams(Node n) {
        n.stream++;
        n.streamsOpen = true;
        for (int a = 0; a < agents.count(); a++) {
            step(n, new Event.AgentConnected(ClusterAgents.agentId(a)));
        }
        agents.connected(n.id);
    }

    /** The agents' side of a stream end: messages in flight die, each agent's core hears Disconnected. */
    private void closeStreams(Node n) {
        n.stream++;
        n.streamsOpen = false;
        agents.disconnected(n.id);
    }

    /** A woken node finds its agents' streams ended while it slept: it hears them go, then reconnect. */
    private void reconnect(Node n) {
        for (int a = 0; a < agents.count(); a++) {
            step(n, new Event.AgentDisconnected(ClusterAgents.agentId(a)));
        }
        if (n.mode == Mode.RUNNING) {
            openStreams(n);
        }
    }

    private void runNode(Node n) {
        while (n.mode == Mode.RUNNING && !n.stmts.isEmpty() && n.stmts.peek().due() <= now) {
            execute(n, n.stmts.poll().record());
        }
        for (Read read : n.reads.isEmpty() ? List.<Read>of() : List.copyOf(n.reads)) {
            if (n.mode == Mode.RUNNING && read.due() <= now) {
                n.reads.remove(read);
                SimStore.Row row = store.decision(read.ask().gtrid());
                Verdict v = StoreRules.verdict(n.self, ownerOf.get(read.ask().gtrid()), read.ownerRow(), row == null ? null : row.decision());
                count("store verdict " + v);
                Event.Inquiry a = read.ask();
                step(n, new Event.StoreVerdict(a.gtrid(), a.bqual(), a.resourceId(), a.agentId(), v));
            }
        }
        if (n.mode == Mode.RUNNING && now >= n.nextRenew) {
            n.nextRenew = now + o.leaseTtlTicks() / 4;
            if (!store.renew(n.self, now, o.leaseTtlTicks())) {
                halt(n, "its renewal found the epoch moved");
            }
        }
        if (n.mode == Mode.RUNNING && now >= n.nextWatch) {
            n.nextWatch = now + o.leaseTtlTicks() / 2;
            watch(n);
        }
        if (n.mode == Mode.RUNNING) {
            step(n, new Event.Tick(now));
        }
    }

    /** Takes over expired nodes, only while its own lease is fresh (a node cut off itself adds no work). */
    private void watch(Node n) {
        if (!LeaseRules.live(store.node(n.id), now)) {
            return;
        }
        for (NodeRow row : store.nodes()) {
            if (!LeaseRules.takeable(row, n.id, now)) {
                continue;
            }
            List<LogRecord> adopted = store.takeOver(n.self, row.nodeId(), row.epoch(), now);
            if (adopted != null) {
                takenOver.add(row.incarnation());
                count("takeover");
                note("node " + n.id + " (" + n.self + ") took over " + row.incarnation() + ", adopting " + adopted.size());
                step(n, new Event.Adopted("node " + row.nodeId(), adopted));
            }
        }
    }

    private void execute(Node n, LogRecord record) {
        if (record instanceof LogRecord.Decision d) {
            SimStore.Insert result = store.insert(n.self, d);
            note("node " + n.id + " (" + n.self + ") inserts COMMIT " + d.gtrid() + ": " + result);
            if (result == SimStore.Insert.FENCED) {
                count("zombie insert fenced");
                halt(n, "its decision insert was fenced");
                return;
            }
            if (result == SimStore.Insert.INSERTED) {
                if (takenOver.contains(n.self)) {
                    fail("a fenced write landed: " + n.self + " was taken over, yet its COMMIT row for " + d.gtrid() + " was inserted");
                }
                if (told.getOrDefault(d.gtrid(), EnumSet.noneOf(Action.class)).contains(Action.ROLLBACK)) {
                    fail("COMMIT row inserted for " + d.gtrid() + " after some node sent ROLLBACK for it");
                }
            }
            step(n, new Event.DecisionDurable(d.gtrid()));
        } else if (record instanceof LogRecord.Completed c) {
            store.complete(c.gtrid());
        }
    }

    private void deliver(Node n, Object payload) {
        if (payload instanceof FromAgent f && (!n.streamsOpen || f.stream() != n.stream)) {
            return; // died with its stream
        }
        if (n.mode == Mode.FROZEN) {
            n.inbox.add(payload);
        } else if (n.mode == Mode.RUNNING) {
            handle(n, payload);
        }
    }

    private void handle(Node n, Object payload) {
        if (payload instanceof FromAgent f && (!n.streamsOpen || f.stream() != n.stream)) {
            return; // it waited in a frozen node's socket buffer, and the stream ended meanwhile
        }
        if (payload instanceof ClientBegin b) {
            if (!OwnerRule.decides(n.self, ownerOf.get(b.gtrid()))) {
                count("client request refused by R2");
                return;
            }
            step(n, new Event.Begin(b.gtrid(), "", b.deadline()));
            for (Branch br : b.branches()) {
                Effects e = step(n, new Event.RegisterBranch(b.gtrid(), br));
                if (e.replies().stream().anyMatch(x -> x instanceof Reply.Registered)) {
                    agents.started(br, b.gtrid(), n.id); // the application's XA START follows the registration
                }
            }
            if (b.commitAt() > 0) {
                clientCommits.computeIfAbsent(Math.max(b.commitAt(), now + 1), k -> new ArrayList<>()).add(b.gtrid());
            }
        } else if (payload instanceof ClientCommit c) {
            if (!OwnerRule.decides(n.self, ownerOf.get(c.gtrid()))) {
                count("client request refused by R2");
                return;
            }
            step(n, new Event.CommitRequested(c.gtrid()));
        } else if (payload instanceof FromAgent f && f.event() instanceof Event.Inquiry a) {
            NodeEpoch owner = ownerOf.get(a.gtrid());
            if (owner == null || OwnerRule.decides(n.self, owner)) {
                fromAgent(n, f.agent(), a);
            } else if (n.core.status(a.gtrid()) != dev.xatm.core.TxnStatus.UNKNOWN) {
                fromAgent(n, f.agent(), new Event.Inquiry(a.gtrid(), a.bqual(), a.resourceId(), a.agentId(), false));
            } else {
                // R4: the owner's row now, the decision row a little later (the order the JDBC store reads in).
                count("inquiry answered from the store (R4)");
                n.reads.add(new Read(now + r.nextInt(0, o.storeLatencyMaxTicks() + 1), a, store.node(owner.nodeId())));
            }
        } else if (payload instanceof FromAgent f) {
            fromAgent(n, f.agent(), f.event());
        } else {
            step(n, (Event) payload);
        }
    }

    /** An agent's vote, acknowledgement or inquiry; a refusal goes back on the stream it came on. */
    private void fromAgent(Node n, int agent, Event e) {
        Effects fx = step(n, e);
        for (Reply reply : fx.replies()) {
            if (reply instanceof Reply.Rejected rej && n.streamsOpen) {
                send(-n.id, agent, n.stream, rej);
            }
        }
    }

    /** A node's command or refusal reaches the agent, unless its stream ended on the way. */
    private void toAgent(Msg m) {
        Node from = nodes.get(-m.node() - 1);
        if (!from.streamsOpen || from.stream != m.stream()) {
            return; // died with its stream
        }
        if (m.payload() instanceof Outbound cmd) {
            agents.command(m.agent(), from.id, cmd);
        } else if (m.payload() instanceof Reply.Rejected rej) {
            agents.refused(m.agent(), from.id, rej.gtrid(), rej.message().startsWith("not mine"));
        }
    }

    private Effects step(Node n, Event event) {
        Effects e = n.core.step(event);
        if (printTrace && !e.isEmpty()) {
            note("node " + n.id + " " + event + " -> " + e);
        }
        for (LogRecord rec : e.logAppends()) {
            if (rec instanceof LogRecord.Decision || rec instanceof LogRecord.Completed) {
                long last = n.stmts.isEmpty() ? now : n.stmts.peekLast().due();
                n.stmts.add(new Stmt(Math.max(last, now + r.nextInt(1, o.storeLatencyMaxTicks() + 1)), rec));
            }
        }
        for (Outbound m : e.messages()) {
            if (m.action() == Action.COMMIT || m.action() == Action.ROLLBACK) {
                EnumSet<Action> said = told.computeIfAbsent(m.gtrid(), g -> EnumSet.noneOf(Action.class));
                said.add(m.action());
                if (said.contains(Action.COMMIT) && said.contains(Action.ROLLBACK)) {
                    fail("two outcomes for " + m.gtrid() + ": node " + n.id + " (" + n.self + ") sent " + m.action()
                            + " after another decision was sent");
                }
                if (m.action() == Action.ROLLBACK && store.decision(m.gtrid()) != null) {
                    fail("node " + n.id + " (" + n.self + ") sent ROLLBACK for " + m.gtrid() + ", which has a COMMIT row");
                }
            }
            if (n.streamsOpen) {
                send(-n.id, ClusterAgents.agentIndex(m.agentId()), n.stream, m);
            }
        }
        for (Reply reply : e.replies()) {
            if (reply instanceof Reply.Decided d && ownerOf.containsKey(d.gtrid()) && agents.heard(d.gtrid(), d.outcome())) {
                count("client heard " + d.outcome());
            }
        }
        return e;
    }

    private void crash(Node n) {
        // What the node had sent reached the store: a random prefix of its pending statements.
        while (!n.stmts.isEmpty() && r.nextBoolean()) {
            execute(n, n.stmts.poll().record());
            if (n.mode != Mode.RUNNING) {
                return; // fenced while landing: halted already
            }
        }
        count("node crash");
        halt(n, "crash");
    }

    /** The process ends: its core, statements and streams are gone; agents roll back what it had not prepared. */
    private void halt(Node n, String why) {
        note("node " + n.id + " (" + n.self + ") halts: " + why);
        count("node halted");
        n.mode = Mode.DOWN;
        n.until = now + r.nextInt(1, o.downMaxTicks() + 1);
        n.core = null;
        n.inbox.clear();
        n.stmts.clear();
        n.reads.clear();
        if (n.streamsOpen) {
            closeStreams(n); // the process is gone: its agents' streams end with it
        }
    }

    // ---- clients ----

    private void begin(int client) {
        List<Node> running = nodes.stream().filter(n -> n.mode == Mode.RUNNING).toList();
        if (running.isEmpty()) {
            count("client found no running node");
            return;
        }
        Node n = running.get(r.nextInt(running.size()));
        String gtrid = "c" + client + ":" + n.self.nodeId() + "." + n.self.epoch();
        ownerOf.put(gtrid, n.self);
        int count = r.nextInt(1, Math.min(3, o.agents()) + 1);
        int first = r.nextInt(o.agents());
        List<Branch> branches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int a = (first + i) % o.agents();
            branches.add(new Branch("b" + i, ClusterAgents.resourceId(a), ClusterAgents.agentId(a)));
        }
        long commitAt = r.nextInt(10) == 0 ? 0 : now + r.nextInt(5, 80);
        send(n.id, -1, -1, new ClientBegin(gtrid, branches, now + r.nextInt(100, 300), commitAt));
    }

    // ---- bookkeeping ----

    /** {@code node > 0}: to that node; {@code node < 0}: to agent {@code agent}, from node {@code -node}. */
    private void send(int node, int agent, long stream, Object payload) {
        net.add(new Msg(now + r.nextInt(1, o.delayMaxTicks() + 1), seq++, node, agent, stream, payload));
    }

    private boolean quiet() {
        for (Node n : nodes) {
            if (n.mode != Mode.RUNNING || n.core.liveCount() > 0) {
                return false;
            }
        }
        return agents.settled();
    }

    private String unsettled() {
        List<String> out = new ArrayList<>();
        for (Node n : nodes) {
            out.add("node " + n.id + " " + n.mode + (n.core == null ? "" : " live " + n.core.liveCount()));
        }
        out.addAll(agents.unsettled());
        return String.join(", ", out);
    }

    private void count(String what) {
        stats.merge(what, 1, Integer::sum);
    }

    private void note(String line) {
        String l = "t=" + now + " " + line;
        if (printTrace) {
            System.out.println(l);
        }
        trace.add(l);
        if (trace.size() > TRACE_LINES) {
            trace.poll();
        }
    }

    private void fail(String why) {
        throw new AssertionError("HA seed " + seed + ": " + why + "\n  options: " + o
                + "\n  replay: ./mvnw -pl tm-core test -Dtest='" + replayTest + "' -Dtm.sim.seed=" + seed + " -Dtm.sim.trace=true"
                + "\n  last steps:\n    " + String.join("\n    ", trace));
    }
}
