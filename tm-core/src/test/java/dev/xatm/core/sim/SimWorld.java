package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Protocol;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.InDoubtTxn;
import dev.xatm.core.view.TxnSummary;
import dev.xatm.core.view.TxnViews;
import dev.xatm.core.sim.Invariants.Truth;
import dev.xatm.core.sim.SimNetwork.FromClient;
import dev.xatm.core.sim.SimNetwork.Notice;
import dev.xatm.core.sim.SimNetwork.Packet;
import dev.xatm.core.sim.SimNetwork.ToAgent;
import dev.xatm.core.sim.SimNetwork.ToClient;
import dev.xatm.core.sim.SimNetwork.ToCoordinator;
import dev.xatm.core.commit.Coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * A whole deployment in one thread, driven by one {@link SplittableRandom}: the real
 * {@link Coordinator}, simulated clients, agents with their databases, a network between them, and
 * the coordinator's log on a simulated disk (TigerBeetle's VOPR is the model). The seed fixes
 * everything, so any failure replays exactly.
 *
 * <p>A random run ({@link #run()}) injects faults for a while (lost, duplicated, delayed and
 * reordered messages; cut links; agent and database crashes; coordinator crashes that lose or tear
 * unsynced log appends), then heals: faults stop, every party restarts and reconnects. It must
 * then become quiet: every transaction finished, nothing left prepared or active at any database.
 * {@link Invariants} are checked after every step throughout.
 *
 * <p>Scripted scenarios use the same world with {@link SimOptions#calm} and drive the faults
 * themselves (crash the coordinator here, hold the disk there).
 */
public final class SimWorld {
    /** After healing, a run must be quiet within this many ticks, or it is a liveness failure. */
    static final long QUIET_LIMIT_TICKS = 5_000;
    /** An agent re-inquires about a prepared branch nobody mentioned for this long. */
    private static final long REINQUIRE_TICKS = 60;

    private static final class Link {
        boolean up;
        int epoch;
        long partitionedUntil;
        /** A stream end the coordinator has not been told of yet: no reconnect before it is. */
        boolean disconnectPending;
        long nextAttemptAt;
    }

    private final long seed;
    private final SplittableRandom random;
    /** The operator's own choices: its actions change the world, but not the draws of everything else. */
    private final SplittableRandom operatorRandom;
    /** Whether a 2PC client commits in one round trip: its own source, so the other draws of a seed stay as they were. */
    private final SplittableRandom oneRoundTripDraws;
    /** The foreign-agent fault's own draws, so that seeds without it replay exactly as before it existed. */
    private final SplittableRandom foreignDraws;
    /** Messages the foreign-agent fault forged; only these may be refused as foreign (PERMISSION_DENIED). */
    private final Set<Event> forged = new HashSet<>();
    /** Replies to the operator's admin events of the current step. */
    private final List<Reply> operatorReplies = new ArrayList<>();
    private final SimOptions options;
    /** This world's deployment in a two-cluster run; null in the usual one-deployment runs. */
    private final String clusterId;
    private final SimLog log;
    private final SimNetwork net;
    private final Invariants invariants;
    private final Trace trace;
    private final List<SimAgent> participants = new ArrayList<>();
    /** Wraps every participant core: identity, or a planted bug (see PlantedParticipantBugTest). */
    private final java.util.function.UnaryOperator<ParticipantStep> plant;
    private final List<SimClient> clients = new ArrayList<>();
    private final Map<String, SimClient> clientByGtrid = new HashMap<>();
    private final Link[] links;
    private Coordinator coordinator;
    private int coordinatorEpoch;
    private long coordinatorRestartAt = -1;
    private long now;
    private long ticksToQuiet;
    private boolean faults = true;
    private final Map<String, Integer> stats = new LinkedHashMap<>();

    /** A random world: its shape and faults are drawn from the seed. */
    public SimWorld(long seed) {
        this(seed, null);
    }

    /** A random world mixing 2PC and 3PC transactions, without partitions or message loss ({@link SimOptions#threePhase}). */
    public static SimWorld threePhase(long seed) {
        return new SimWorld(seed, SimOptions.threePhase(new SplittableRandom(seed ^ 0x3BC0FFEEL)));
    }

    /** A world of the given shape; {@code options.clients()} random clients are added. */
    public SimWorld(long seed, SimOptions options) {
        this(seed, options, null, null, false, java.util.function.UnaryOperator.identity());
    }

    /** A random 3PC world whose participant cores are wrapped by {@code plant}: a planted bug the invariants must catch. */
    static SimWorld threePhase(long seed, java.util.function.UnaryOperator<ParticipantStep> plant) {
        return new SimWorld(seed, SimOptions.threePhase(new SplittableRandom(seed ^ 0x3BC0FFEEL)), null, null, false, plant);
    }

    /**
     * One of two deployments whose agents share their databases ({@link #runTwoClusters}): its coordinator
     * and gtrids belong to cluster {@code clusterId}, agent i keeps its branches in {@code databases.get(i)}.
     *
     * @param agentsAskAboutEverything the agents' recovery leaves out the cluster filter, so that only the
     *                                 coordinator's refusal keeps them from the other deployment's branches
     */
    SimWorld(long seed, SimOptions options, String clusterId, List<SimDatabase> databases,
             boolean agentsAskAboutEverything, java.util.function.UnaryOperator<ParticipantStep> plant) {
        this.seed = seed;
        this.plant = plant;
        this.clusterId = clusterId;
        this.random = new SplittableRandom(seed);
        this.operatorRandom = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 1);
        this.oneRoundTripDraws = new SplittableRandom(seed ^ 0x0E1A7D3CL);
        this.foreignDraws = new SplittableRandom(seed ^ 0x7F0E1A6EL);
        this.options = options != null ? options : SimOptions.random(random, new SplittableRandom(seed ^ 0x5DEECE66DL));
        this.trace = new Trace(300, Boolean.getBoolean("tm.sim.trace"));
        this.log = new SimLog(random, this.options);
        this.net = new SimNetwork(random, this.options);
        this.invariants = new Invariants(log);
        this.links = new Link[this.options.agents()];
        for (int i = 0; i < this.options.agents(); i++) {
            SimDatabase db = databases == null ? new SimDatabase(invariants, random, this.options)
                    : databases.get(i).sharedWith(invariants, random, this.options);
            participants.add(new SimAgent(i, db, clusterId, agentsAskAboutEverything, REINQUIRE_TICKS, plant, agentSide));
            links[i] = new Link();
        }
        String gtridHead = clusterId == null ? "" : "x:" + clusterId + "-";
        for (int i = 0; i < this.options.clients(); i++) {
            addClient(randomPlan(gtridHead + "g" + i));
        }
        coordinator = new Coordinator(coordinatorConfig());
        stepCoordinator(new Event.Tick(0), -1);
    }

    private SimClient.Plan randomPlan(String gtrid) {
        List<Integer> agents = new ArrayList<>();
        for (int i = 0; i < options.agents(); i++) {
            agents.add(i);
        }
        int n = 1 + random.nextInt(Math.min(options.maxBranchesPerClient(), options.agents()));
        int[] chosen = new int[n];
        boolean[] wrote = new boolean[n];
        for (int i = 0; i < n; i++) {
            chosen[i] = agents.remove(random.nextInt(agents.size())); // one branch per database
            wrote[i] = random.nextDouble() >= options.readOnlyProbability();
        }
        double e = random.nextDouble();
        SimClient.Ending ending = e < options.rollbackProbability() ? SimClient.Ending.ROLLBACK
                : e < options.rollbackProbability() + options.abandonProbability() ? SimClient.Ending.ABANDON
                : SimClient.Ending.COMMIT;
        // Drawn only in runs that mix protocols, so the 2PC runs replay exactly as before 3PC existed.
        Protocol protocol = options.threePhaseShare() > 0
                ? (random.nextDouble() < options.threePhaseShare() ? Protocol.THREE_PHASE : Protocol.TWO_PHASE) : null;
        long startAt = random.nextInt(1, options.clientStartWindowTicks() + 1);
        long deadline = random.nextInt(30, 400);
        // One round trip, drawn from its own source so that every other draw of a seed stays as
        // it was: every branch at one participant (the application's own agent). Not with a tiny finished
        // memory: the presumed-abort memory of inquiries is what keeps a late commit with votes out.
        // 3PC too (its own path: the application answers CAN_COMMIT and then PRE_COMMIT itself, two requests).
        if (n >= 2 && !options.forgetsFinished() && oneRoundTripDraws.nextInt(3) == 0) {
            java.util.Arrays.fill(chosen, chosen[0]);
            return new SimClient.Plan(gtrid, startAt, deadline, chosen, wrote, ending, protocol, true);
        }
        return new SimClient.Plan(gtrid, startAt, deadline, chosen, wrote, ending, protocol);
    }

    public SimClient addClient(SimClient.Plan plan) {
        SimClient c = new SimClient(clients.size(), plan);
        clients.add(c);
        clientByGtrid.put(plan.gtrid(), c);
        return c;
    }

    CoordinatorConfig coordinatorConfig() {
        return clusterId == null ? options.coordinator() : options.coordinator().withClusterId(clusterId);
    }

    // ---- the run ----

    /**
     * Two deployments, each with its own coordinator, clients and agents, whose agent i share database i,
     * as two deployments on one MariaDB server do: each one's XA RECOVER lists the other's prepared
     * branches. Both run the usual faults side by side, tick by tick, then heal and must become quiet.
     * No agent may ever be told to finish a branch of the other deployment (SimAgent fails the run
     * if one is); in half the seeds the agents leave out their cluster filter, so that the coordinators'
     * refusal to answer for another cluster's gtrid is all that protects those branches.
     *
     * @return the two worlds, quiet and checked, for their stats
     */
    static List<SimWorld> runTwoClusters(long seed) {
        SimWorld a = new SimWorld(seed, null, "aaaa1111", null, false, java.util.function.UnaryOperator.identity());
        List<SimDatabase> databases = new ArrayList<>();
        for (SimAgent p : a.participants) {
            databases.add(p.database());
        }
        boolean unfiltered = (seed & 1) == 0;
        SimWorld b = new SimWorld(seed ^ 0x2C1A5732L, a.options, "bbbb2222", databases, unfiltered,
                java.util.function.UnaryOperator.identity());
        a.guarded(() -> b.guarded(() -> {
            while (a.now < a.options.faultTicks()) {
                a.step();
                b.step();
            }
            a.heal();
            b.heal();
            long limit = a.now + QUIET_LIMIT_TICKS;
            while (!(a.quiet() && b.quiet())) {
                if (a.now >= limit) {
                    Invariants.fail("liveness: two clusters not quiet " + QUIET_LIMIT_TICKS + " ticks after healing\n"
                            + a.stuck() + "\n" + b.stuck());
                }
                a.step();
                b.step();
            }
            a.finalChecks();
            b.finalChecks();
        }));
        return List.of(a, b);
    }

    /** Faults, heal, quiet, final checks. Throws an AssertionError naming the seed on any failure. */
    public void run() {
        guarded(() -> {
            while (now < options.faultTicks()) {
                step();
            }
            heal();
            runUntilQuiet();
        });
    }

    /** One tick of the whole world. */
    public void step() {
        now++;
        if (coordinator == null && coordinatorRestartAt >= 0 && now >= coordinatorRestartAt) {
            restartCoordinator();
        }
        for (SimAgent p : participants) {
            if (p.crashed() && p.restartAt >= 0 && now >= p.restartAt) {
                p.restart();
                trace.add(now, p.agentId + " restarted");
            }
        }
        if (coordinator != null) {
            for (LogRecord d : log.advance(now)) {
                stepCoordinator(new Event.DecisionDurable(d.gtrid()), -1);
            }
        }
        Packet p;
        while ((p = net.poll(now)) != null) {
            deliver(p);
        }
        for (int i = 0; i < links.length; i++) {
            maybeConnect(i);
        }
        for (SimClient c : clients) {
            c.act(this);
        }
        for (SimAgent part : participants) {
            part.tick(now); // 3PC timers that ran out; the recovery sweep (overdue inquiries)
        }
        if (faults) {
            injectFaults();
        }
        operatorActs();
        foreignAgentActs();
        if (coordinator != null) {
            stepCoordinator(new Event.Tick(now), -1);
        }
    }

    /** Faults stop; every crashed party restarts, every cut link may reconnect. */
    public void heal() {
        faults = false;
        net.heal();
        log.hold(false);
        trace.add(now, "--- heal ---");
        if (coordinator == null) {
            restartCoordinator();
        }
        for (SimAgent p : participants) {
            if (p.crashed()) {
                p.restart();
            }
        }
        for (Link l : links) {
            l.partitionedUntil = 0;
            l.nextAttemptAt = now;
        }
    }

    /** Steps until quiet; liveness failure if that takes longer than {@link #QUIET_LIMIT_TICKS}. */
    public void runUntilQuiet() {
        faults = false; // a script that injected its own faults is done with them; the operator now works the list
        long healedAt = now;
        long limit = now + QUIET_LIMIT_TICKS;
        while (!quiet()) {
            if (now >= limit) {
                Invariants.fail("liveness: not quiet " + QUIET_LIMIT_TICKS + " ticks after healing\n" + stuck());
            }
            step();
        }
        ticksToQuiet = now - healedAt;
        finalChecks();
    }

    /** How long the last {@link #runUntilQuiet()} took. */
    long ticksToQuiet() {
        return ticksToQuiet;
    }

    /** Steps until the condition holds; fails after maxTicks. */
    public void runUntil(BooleanSupplier condition, long maxTicks, String what) {
        long limit = now + maxTicks;
        while (!condition.getAsBoolean()) {
            if (now >= limit) {
                Invariants.fail("scenario: " + what + " did not happen within " + maxTicks + " ticks\n" + stuck());
            }
            step();
        }
    }

    boolean quiet() {
        if (coordinator == null || coordinator.liveCount() > 0 || coordinator.heldCount() > 0) {
            return false;
        }
        for (SimClient c : clients) {
            if (!c.finished()) {
                return false;
            }
        }
        for (SimAgent p : participants) {
            if (!p.database().open(clusterId).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** Once quiet: every outcome a client heard matches what the databases did. */
    void finalChecks() {
        for (SimClient c : clients) {
            Map<String, Truth> branches = invariants.branchesOf(c.gtrid());
            count("outcome " + c.result().replaceAll(":.*| \\(.*", ""));
            if ("COMMITTED".equals(c.result()) && branches.values().stream()
                    .anyMatch(t -> t != Truth.COMMITTED && t != Truth.READ_ONLY && t != Truth.HEURISTIC)) {
                Invariants.fail(c.gtrid() + ": client told COMMITTED but the branches ended " + branches);
            }
            if (c.presumedAborted() && branches.containsValue(Truth.COMMITTED)) {
                if (branches.size() == 1) {
                    // A one-phase commit writes no record: a coordinator crash before its answer
                    // leaves nothing to tell the committed case from the lost one (see README).
                    count("one-phase committed but reported NOT_FOUND after a coordinator crash");
                } else if (options.forgetsFinished()) {
                    // Rule 11: a forgotten transaction is presumed aborted; the bound must cover retries.
                    count("committed, forgotten by a tiny finishedMemory, then reported NOT_FOUND");
                } else {
                    Invariants.fail(c.gtrid() + ": client told NOT_FOUND (presumed rolled back) but branches committed: " + branches);
                }
            }
        }
    }

    // ---- faults ----

    private void injectFaults() {
        if (coordinator != null && chance(options.coordinatorCrashPerTick())) {
            crashCoordinator(now + random.nextInt(1, options.coordinatorDownMaxTicks() + 1));
        }
        for (SimAgent p : participants) {
            if (!p.crashed() && chance(options.participantCrashPerTick())) {
                crashParticipant(p.index, now + random.nextInt(1, options.participantDownMaxTicks() + 1));
            } else if (links[p.index].up && chance(options.partitionPerTick())) {
                partition(p.index, random.nextInt(1, options.partitionMaxTicks() + 1));
            }
        }
    }

    private boolean chance(double p) {
        return p > 0 && random.nextDouble() < p;
    }

    /** The coordinator process dies; it restarts at restartAt (or when a script says, if negative). */
    public void crashCoordinator(long restartAt) {
        crashCoordinator(restartAt, true);
    }

    /** @param diskMayKeepUnsynced false: every unsynced append is lost (a script wants that exact case) */
    public void crashCoordinator(long restartAt, boolean diskMayKeepUnsynced) {
        trace.add(now, "coordinator CRASH");
        count("coordinator crashes");
        coordinator = null;
        coordinatorEpoch++;
        log.crash(diskMayKeepUnsynced);
        for (int i = 0; i < links.length; i++) {
            Link l = links[i];
            if (l.up) {
                l.up = false;
                l.epoch++;
                participants.get(i).disconnected(now);
            }
            l.disconnectPending = false;
            l.nextAttemptAt = now + random.nextInt(1, 6);
        }
        coordinatorRestartAt = restartAt;
    }

    public void restartCoordinator() {
        List<LogRecord> records = log.recover();
        coordinator = Coordinator.restore(coordinatorConfig(), records, now);
        if (coordinator.liveCount() > 0) {
            count("restores resuming phase 2");
        }
        if (options.threePhaseShare() > 0) {
            for (TxnSummary t : coordinator.views().list(TxnStatus.PRE_COMMITTING, TxnViews.MAX_LIMIT)) {
                count("3PC transactions restored in PRE_COMMIT (re-asked)");
            }
        }
        coordinatorRestartAt = -1;
        trace.add(now, "coordinator RESTORED from " + records.size() + " records");
    }

    public void crashParticipant(int agent, long restartAt) {
        SimAgent p = participants.get(agent);
        trace.add(now, p.agentId + " CRASH");
        count("participant crashes");
        p.crash(restartAt);
        cut(agent);
    }

    public void partition(int agent, long ticks) {
        trace.add(now, participants.get(agent).agentId + " link CUT for " + ticks);
        count("partitions");
        links[agent].partitionedUntil = now + ticks;
        cut(agent);
    }

    private void cut(int agent) {
        Link l = links[agent];
        l.nextAttemptAt = now + random.nextInt(1, 6);
        if (!l.up) {
            return;
        }
        l.up = false;
        l.epoch++;
        participants.get(agent).disconnected(now);
        if (coordinator != null) {
            // The driver notices the stream end a little later (keepalive).
            l.disconnectPending = true;
            net.sendReliable(new Notice(agent, coordinatorEpoch, new Event.AgentDisconnected(participants.get(agent).agentId)), now);
        }
    }

    private void maybeConnect(int agent) {
        Link l = links[agent];
        SimAgent p = participants.get(agent);
        if (l.up || l.disconnectPending || coordinator == null || p.crashed()
                || now < l.partitionedUntil || now < l.nextAttemptAt) {
            return;
        }
        l.up = true;
        l.epoch++;
        stepCoordinator(new Event.AgentConnected(p.agentId), agent);
        // Agent contract: after Welcome, an Inquiry for every branch it holds prepared, and (3PC) what
        // it decided on its own, until the run ends: the participant core's rules on Connected.
        p.connected(now);
    }

    // ---- the operator (admin API events) ----

    /**
     * An operator at the admin API. While faults run it now and then forces a commit or a rollback
     * of a random transaction: whatever it is told, the invariants must hold, and an accepted force
     * must agree with the log (a forced commit only with a durable decision, a forced rollback only
     * without one). It forgets held heuristics (after checking that the coordinator recorded what the
     * databases did) and reconciles the databases: sometimes while faults run, always once healed.
     * Heuristics the coordinator could not know any more (a rollback's, lost in a crash; a forgotten
     * transaction's) are found at the databases once healed, as an operator would from the server's log.
     */
    private void operatorActs() {
        if (coordinator == null) {
            return;
        }
        if (!faults) {
            // Healed: the operator works through the in-doubt list (a one-phase hazard, too, waits for it).
            forgetHeldHeuristics();
            reconcileOrphanHeuristics();
            return;
        }
        if (options.operatorActionPerTick() <= 0) {
            return;
        }
        if (!clients.isEmpty() && operatorRandom.nextDouble() < options.operatorActionPerTick()) {
            String gtrid = clients.get(operatorRandom.nextInt(clients.size())).gtrid();
            force(operatorRandom.nextBoolean() ? new Event.ForceCommit(gtrid, "sim-operator")
                    : new Event.ForceRollback(gtrid, "sim-operator"));
        }
        if (operatorRandom.nextDouble() < options.operatorActionPerTick()) {
            forgetHeldHeuristics();
        }
    }

    /**
     * The foreign-agent fault: a connected agent speaks for a branch in another agent's database, with a
     * YES vote (to PREPARE or to 3PC's PRE_COMMIT) or a DONE acknowledgement (of COMMIT, COMMIT_ONE_PHASE,
     * or a 3PC commit on its own), as any holder of the shared client token could. Its stream is its own:
     * the event names the forger, as the driver stamps every event with its stream's agent id. Were one
     * taken, a transaction could commit around a branch that never prepared, or finish without a branch
     * that never committed; the invariants catch both.
     */
    private void foreignAgentActs() {
        if (!faults || options.foreignAgentPerTick() <= 0 || participants.size() < 2
                || foreignDraws.nextDouble() >= options.foreignAgentPerTick()) {
            return;
        }
        SimAgent forger = participants.get(foreignDraws.nextInt(participants.size()));
        SimAgent victim = participants.get((forger.index + 1 + foreignDraws.nextInt(participants.size() - 1))
                % participants.size());
        List<BranchId> targets = victim.database().branches();
        if (targets.isEmpty() || forger.crashed() || !links[forger.index].up) {
            return;
        }
        BranchId x = targets.get(foreignDraws.nextInt(targets.size()));
        Event forgery = switch (foreignDraws.nextInt(5)) {
            case 0 -> new Event.VoteReceived(x.gtrid(), x.bqual(), dev.xatm.core.Vote.YES, forger.agentId);
            case 1 -> new Event.VoteReceived(x.gtrid(), x.bqual(), dev.xatm.core.Vote.YES, dev.xatm.core.Action.PRE_COMMIT,
                    forger.agentId);
            case 2 -> new Event.AckReceived(x.gtrid(), x.bqual(), dev.xatm.core.Action.COMMIT, dev.xatm.core.AckResult.DONE,
                    forger.agentId);
            case 3 -> new Event.AckReceived(x.gtrid(), x.bqual(), dev.xatm.core.Action.COMMIT_ONE_PHASE,
                    dev.xatm.core.AckResult.DONE, forger.agentId);
            default -> new Event.AckReceived(x.gtrid(), x.bqual(), dev.xatm.core.Action.COMMIT, dev.xatm.core.AckResult.DONE,
                    true, forger.agentId);
        };
        forged.add(forgery);
        count("foreign agent messages forged");
        trace.add(now, forger.agentId + " forges for " + victim.agentId + ": " + forgery);
        sendToCoordinator(forger.index, forgery);
    }

    private void force(Event e) {
        String gtrid = e instanceof Event.ForceCommit fc ? fc.gtrid() : ((Event.ForceRollback) e).gtrid();
        boolean durableBefore = log.durableDecision(gtrid) != null;
        operatorReplies.clear();
        stepCoordinator(e, -1);
        for (Reply r : operatorReplies) {
            if (r instanceof Reply.Resolved ok) {
                count("operator " + ok.request() + " accepted");
                if (ok.request() == RequestKind.FORCE_COMMIT && ok.status() == TxnStatus.COMMITTING && !durableBefore) {
                    Invariants.fail("forced commit of " + gtrid + " accepted without a durable decision");
                }
                if (ok.request() == RequestKind.FORCE_ROLLBACK && durableBefore) {
                    Invariants.fail("forced rollback of " + gtrid + " accepted although its COMMIT decision is durable");
                }
            } else if (r instanceof Reply.Rejected no) {
                count("operator " + no.request() + " refused " + no.code());
            }
        }
    }

    private void forgetHeldHeuristics() {
        TxnViews views = coordinator.views();
        for (InDoubtTxn t : views.inDoubt(Long.MAX_VALUE, TxnViews.MAX_LIMIT)) {
            if (!t.summary().status().needsOperator()) {
                continue;
            }
            String gtrid = t.summary().gtrid();
            for (BranchView b : views.detail(gtrid, 0).orElseThrow().branches()) {
                Truth at = invariants.truth(new BranchId(gtrid, b.bqual()));
                if (b.heuristic() == AckResult.HEURISTIC_COMMIT && b.decidedOnItsOwn() == Action.COMMIT && at == Truth.COMMITTED) {
                    count("3PC participant commits recorded as heuristic"); // it committed on its own while the decision was ROLLBACK
                } else if (b.heuristic() != null && at != Truth.HEURISTIC) {
                    Invariants.fail("coordinator records " + b.heuristic() + " for " + gtrid + "/" + b.bqual()
                            + " but the database says " + invariants.truth(new BranchId(gtrid, b.bqual())));
                }
            }
            operatorReplies.clear();
            stepCoordinator(new Event.Forget(gtrid, "sim-operator"), -1);
            if (operatorReplies.stream().noneMatch(r -> r instanceof Reply.Resolved)) {
                Invariants.fail("forget of held " + gtrid + " (" + t.summary().status() + ") not accepted: " + operatorReplies);
            }
            count("operator forgot " + t.summary().status());
            for (SimAgent p : participants) {
                for (BranchId x : List.copyOf(p.database().heuristics().keySet())) {
                    if (x.gtrid().equals(gtrid)) {
                        p.database().reconcile(x);
                    }
                }
            }
        }
    }

    private void reconcileOrphanHeuristics() {
        Set<String> known = new LinkedHashSet<>();
        for (SimAgent p : participants) {
            for (BranchId x : List.copyOf(p.database().heuristics().keySet())) {
                TxnStatus s = coordinator.status(x.gtrid());
                // Live ones will report it; held ones the operator forgets above; a remembered finished
                // one learns it from the agent's inquiry. Only an unknown gtrid can never hear of it.
                if (s == TxnStatus.UNKNOWN) {
                    p.database().reconcile(x);
                    count("heuristics the coordinator no longer knew, reconciled from the databases");
                }
                known.add(x.gtrid());
            }
        }
    }

    // ---- plumbing ----

    private void deliver(Packet packet) {
        if (packet instanceof ToAgent t) {
            Link l = links[t.agent()];
            SimAgent p = participants.get(t.agent());
            if (!l.up || l.epoch != t.linkEpoch() || p.crashed()) {
                return; // died with its stream
            }
            if (t.payload() instanceof Outbound cmd) {
                trace.add(now, p.agentId + " <- " + cmd.action() + " " + cmd.gtrid() + "/" + cmd.bqual());
                p.command(cmd, now);
            } else if (t.payload() instanceof Reply.Rejected rej && rej.message().startsWith("not mine")) {
                count("inquiries about another cluster's branch refused");
                p.refused(rej.gtrid(), true, now); // as the agent does: logged once, the branch left alone
            } else if (t.payload() instanceof Reply.Rejected rej) {
                p.refused(rej.gtrid(), false, now);
            }
        } else if (packet instanceof ToCoordinator t) {
            Link l = links[t.agent()];
            if (coordinator != null && l.up && l.epoch == t.linkEpoch()) {
                stepCoordinator(t.event(), t.agent());
            }
        } else if (packet instanceof FromClient f) {
            if (coordinator != null && f.coordinatorEpoch() == coordinatorEpoch) {
                stepCoordinator(f.request(), -1);
            }
        } else if (packet instanceof ToClient t) {
            if (t.coordinatorEpoch() == coordinatorEpoch) {
                clients.get(t.client()).onReply(this, t.reply());
            }
        } else if (packet instanceof Notice n) {
            if (coordinator != null && n.coordinatorEpoch() == coordinatorEpoch) {
                links[n.agent()].disconnectPending = false;
                stepCoordinator(n.event(), n.agent());
            }
        }
    }

    /** Feeds one event to the coordinator and carries out its effects in the order Effects prescribes. */
    private void stepCoordinator(Event e, int fromAgent) {
        Effects fx = coordinator.step(e);
        if (!(e instanceof Event.Tick) || !fx.isEmpty()) {
            trace.add(now, "coordinator <-", e, fx.isEmpty() ? null : fx);
        }
        for (LogRecord r : fx.logAppends()) {
            log.append(r, now);
        }
        invariants.effects(fx);
        countCoverage(e, fx);
        for (Reply r : fx.replies()) {
            if (r instanceof Reply.Rejected no && no.code() == dev.xatm.core.ErrorCode.PERMISSION_DENIED) {
                if (!forged.contains(e)) {
                    Invariants.fail("an agent's own message was refused as foreign: " + e + " -> " + no.message());
                }
                count("foreign votes and acks refused");
            }
        }
        for (Outbound m : fx.messages()) {
            sendToAgent(agentIndex(m.agentId()), m);
        }
        for (Reply r : fx.replies()) {
            route(r, fromAgent);
        }
    }

    /** Counts the paths worth knowing a run went through, so a report shows what the seeds covered. */
    private void countCoverage(Event e, Effects fx) {
        if (!fx.logAppends().isEmpty() && fx.logAppends().get(0) instanceof LogRecord.Decision) {
            count("decisions logged");
        }
        if (options.threePhaseShare() > 0) {
            for (LogRecord r : fx.logAppends()) {
                if (r instanceof LogRecord.PreCommit || r instanceof LogRecord.Aborted) {
                    count("3PC " + r.getClass().getSimpleName() + " records logged");
                }
            }
        }
        for (Reply r : fx.replies()) {
            if (r instanceof Reply.Finished f && f.outcome() == dev.xatm.core.Outcome.HEURISTIC_HAZARD
                    && coordinator.status(f.gtrid()) == TxnStatus.FINISHED_HEURISTIC) {
                count("transactions finished with a heuristic outcome");
            }
        }
        if (e instanceof Event.CommitPrepared) {
            count("commits with votes (one round trip)");
        }
        if (e instanceof Event.CanCommitHeld) {
            count("3PC CAN_COMMIT answers brought by their holder");
        }
        if (e instanceof Event.PreCommitHeld) {
            count("3PC PRE_COMMIT answers brought by their holder");
        }
        for (Reply r : fx.replies()) {
            if (r instanceof Reply.PreCommitted) {
                count("3PC PreCommitted answers");
            }
        }
        for (Outbound m : fx.messages()) {
            if (m.action() == dev.xatm.core.Action.PRE_COMMIT && clientByGtrid.containsKey(m.gtrid())
                    && clientByGtrid.get(m.gtrid()).plan.oneRoundTrip()) {
                count("3PC PRE_COMMIT on the stream for a holder's branch (its answers did not come)");
            }
        }
        if (e instanceof Event.Inquiry && !fx.messages().isEmpty()) {
            count("inquiries answered with " + fx.messages().get(0).action());
        } else if (e instanceof Event.VoteReceived v && v.vote() == dev.xatm.core.Vote.YES && !fx.messages().isEmpty()
                && fx.messages().get(0).action() == dev.xatm.core.Action.ROLLBACK && fx.replies().isEmpty()) {
            count("late YES answered with ROLLBACK");
        } else if (e instanceof Event.AgentDisconnected && fx.replies().stream().anyMatch(r -> r instanceof Reply.Finished)) {
            count("transactions finished by an agent disconnect");
        }
    }

    private void route(Reply r, int fromAgent) {
        if (r instanceof Reply.Resolved || (r instanceof Reply.Rejected op && (op.request() == RequestKind.FORCE_COMMIT
                || op.request() == RequestKind.FORCE_ROLLBACK || op.request() == RequestKind.FORGET))) {
            operatorReplies.add(r);
            return;
        }
        if (r instanceof Reply.Rejected rej
                && (rej.request() == RequestKind.VOTE || rej.request() == RequestKind.ACK || rej.request() == RequestKind.INQUIRY)) {
            if (fromAgent >= 0) {
                sendToAgent(fromAgent, rej);
            }
            return;
        }
        SimClient c = clientByGtrid.get(r.gtrid());
        if (c != null) {
            net.sendReliable(new ToClient(c.index, coordinatorEpoch, r), now);
        }
    }

    private void sendToAgent(int agent, Object payload) {
        Link l = links[agent];
        if (l.up) {
            net.sendLossy(new ToAgent(agent, l.epoch, payload), now);
        }
    }

    private void sendToCoordinator(int agent, Event e) {
        Link l = links[agent];
        if (l.up && coordinator != null) {
            net.sendLossy(new ToCoordinator(agent, l.epoch, e), now);
        }
    }

    /** An agent's message on its stream, sent by the application's own thread (one round trip's acks). */
    void sendFromAgent(int agent, Event e) {
        if (e != null) {
            sendToCoordinator(agent, e);
        }
    }

    /** The world as the agents' drivers see it: their messages go on their streams. */
    private final SimAgent.World agentSide = new SimAgent.World() {
        @Override
        public void send(int agent, Event e) {
            trace.add(now, participants.get(agent).agentId + " ->", e, null);
            sendToCoordinator(agent, e);
        }

        @Override
        public void trace(String line) {
            trace.add(now, line);
        }

        @Override
        public void count(String what) {
            SimWorld.this.count(what);
        }
    };

    void sendFromClient(SimClient c, Event request) {
        if (coordinator != null) {
            net.sendReliable(new FromClient(c.index, coordinatorEpoch, request), now);
        }
    }

    private static int agentIndex(String agentId) {
        return Integer.parseInt(agentId.substring("agent-".length()));
    }

    // ---- for clients, scripts and failure reports ----

    public long now() {
        return now;
    }

    SplittableRandom random() {
        return random;
    }

    void trace(String line) {
        trace.add(now, line);
    }

    public SimAgent participant(int agent) {
        return participants.get(agent);
    }

    public SimClient client(String gtrid) {
        return clientByGtrid.get(gtrid);
    }

    public SimLog log() {
        return log;
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    public Truth truth(String gtrid, String bqual) {
        return invariants.truth(new BranchId(gtrid, bqual));
    }

    public SimOptions options() {
        return options;
    }

    /** Mixed outcomes are written into the returned list instead of failing the run (see {@link Invariants#recordMixedOutcomes}). */
    public List<String> recordMixedOutcomes() {
        return invariants.recordMixedOutcomes();
    }

    Map<String, Integer> stats() {
        count("torn tails", log.tornTails());
        count("messages lost", (int) net.lost());
        count("messages duplicated", (int) net.duplicated());
        return stats;
    }

    private void count(String what) {
        count(what, 1);
    }

    private void count(String what, int n) {
        stats.merge(what, n, Integer::sum);
    }

    String stuck() {
        StringBuilder sb = new StringBuilder();
        sb.append("  coordinator: ").append(coordinator == null ? "down" : coordinator.liveCount() + " live").append('\n');
        for (SimClient c : clients) {
            if (!c.finished()) {
                sb.append("  ").append(c).append(" status ")
                        .append(coordinator == null ? "?" : coordinator.status(c.gtrid())).append('\n');
            }
        }
        for (SimAgent p : participants) {
            Map<BranchId, String> open = p.database().open(clusterId);
            if (!open.isEmpty()) {
                sb.append("  ").append(p.agentId).append(" holds ").append(open).append(p.crashed() ? " (crashed)" : "")
                        .append(links[p.index].up ? "" : " (link down)").append('\n');
                for (BranchId x : open.keySet()) {
                    sb.append("    ").append(x).append(": coordinator says ")
                            .append(coordinator == null ? "?" : coordinator.status(x.gtrid())).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** Runs a piece of the simulation; any failure becomes an AssertionError that says how to replay it. */
    public void guarded(Runnable body) {
        try {
            body.run();
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError(report(e), e);
        }
    }

    private String report(Throwable e) {
        StringBuilder sb = new StringBuilder();
        sb.append("Simulation failed at tick ").append(now).append(" with seed ").append(seed).append(": ")
                .append(e.getMessage()).append('\n')
                .append("Replay: mvn -pl tm-core test -Dtest=SimulationTest").append(options.threePhaseShare() > 0 ? "#threePhaseRunsKeepAtomicityWithoutPartitions" : "")
                .append(" -Dtm.sim.seed=").append(seed)
                .append("   (add -Dtm.sim.trace=true to print every step)\n")
                .append("Options: ").append(options).append('\n')
                .append("Last steps:\n");
        for (String line : trace.last()) {
            sb.append("  ").append(line).append('\n');
        }
        return sb.toString();
    }
}
