package dev.xatm.core.sim;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.Outbound;
import dev.xatm.core.Vote;
import dev.xatm.core.sim.Invariants.Truth;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * An agent and the database it holds branches on, behaving as the agent contract in the design
 * notes says: commands are executed idempotently, one at a time per branch; XAER_NOTA on rollback
 * (and on commit, since COMMIT only comes after a durable decision) counts as done.
 *
 * <p>The database keeps ACTIVE and PREPARED branches. A crash rolls back the active ones and keeps
 * the prepared ones; the agent's memory (one-phase outcomes, read-only branches it
 * finished) is lost. After a restart it reconnects and inquires about every prepared branch.
 *
 * <p>Three-phase commit, as the participant's side is specified: CAN_COMMIT is a question (NO if the
 * branch is gone or unhealthy, READ_ONLY if it wrote nothing, else YES and the branch stays active);
 * PRE_COMMIT is XA PREPARE. Each YES starts a timer of the length the command carried: no PRE_COMMIT (or
 * ROLLBACK) in time after a CAN_COMMIT YES and it rolls the branch back; no COMMIT or ROLLBACK in time
 * after a PRE_COMMIT YES and it commits the branch on its own. Either is reported as an autonomous ack
 * at once if the link is up, again whenever it (re)connects, and as the answer to any later command
 * for that branch. The timers live in the agent's memory and die in a crash (the restarted agent then
 * behaves as a 2PC agent: XA RECOVER and an inquiry); what it decided on its own is journaled and
 * survives, so that it is never left unreported.
 */
final class SimParticipant {
    private enum XaState { ACTIVE, PREPARED }

    /** One branch as the database holds it; package-private so that two worlds can share a database. */
    static final class XaBranch {
        XaState state = XaState.ACTIVE;
        final boolean wrote;

        XaBranch(boolean wrote) {
            this.wrote = wrote;
        }
    }

    final int index;
    final String agentId;
    final String resourceId;
    private final Invariants invariants;
    private final SplittableRandom random;
    private final SimOptions options;

    /**
     * The database: survives a crash, minus the active branches. Shared with the agent of another
     * deployment in a two-cluster run, as a database server two deployments use is: it then also holds
     * (and XA RECOVER lists) the other deployment's branches.
     */
    private final Map<BranchId, XaBranch> xa;
    /** This agent's deployment (null: the only one); its recovery asks only about branches that name it. */
    private final String clusterId;
    /** A fault of two-cluster runs: recovery without the cluster filter, so the coordinator's refusal is all that stands. */
    private final boolean asksAboutEverything;
    /** Gtrids a coordinator refused to answer for, as another deployment's (agent memory). */
    private final Set<String> refusedAsNotMine = new HashSet<>();
    /**
     * Branches the database completed heuristically. It remembers them, answers every later COMMIT
     * or ROLLBACK with the same heuristic, and XA RECOVER lists them, until an operator reconciles
     * them (XA's xa_forget). They survive crashes.
     */
    private final Map<BranchId, AckResult> heuristics = new LinkedHashMap<>();
    /** The agent's memory, lost in a crash. */
    private final Map<BranchId, AckResult> onePhaseOutcomes = new HashMap<>();
    private final Set<BranchId> readOnlyFinished = new LinkedHashSet<>();
    private final Map<BranchId, Long> lastHeardAt = new HashMap<>();
    /** 3PC timers (agent memory): when a branch that answered YES to CAN_COMMIT rolls back on its own. */
    private final Map<BranchId, Long> canCommitTimers = new LinkedHashMap<>();
    /** 3PC timers (agent memory): when a branch that answered YES to PRE_COMMIT (prepared) commits on its own. */
    private final Map<BranchId, Long> preCommitTimers = new LinkedHashMap<>();
    /** 3PC: what it decided on its own (journaled, survives a crash); reported until the run ends. */
    private final Map<BranchId, Action> decidedOnItsOwn = new LinkedHashMap<>();
    /** Scripted faults: branches whose next PRE_COMMIT fails. */
    private final Set<BranchId> failingPrepares = new LinkedHashSet<>();
    private boolean crashed;
    long restartAt;

    /**
     * Branches the application's own thread prepared and commits in one round trip, while it waits for
     * the coordinator's answer: the agent sends no inquiry about them (the coordinator may not know the
     * transaction yet). They die with the application: a crash clears this.
     */
    private final Set<BranchId> callerCommitting = new HashSet<>();

    SimParticipant(int index, Invariants invariants, SplittableRandom random, SimOptions options) {
        this(index, invariants, random, options, null, new LinkedHashMap<>(), false);
    }

    /**
     * @param database             the database this agent's branches live in, possibly shared with another deployment's agent
     * @param asksAboutEverything recovery leaves out the cluster filter (a misconfigured or older agent)
     */
    SimParticipant(int index, Invariants invariants, SplittableRandom random, SimOptions options, String clusterId,
                   Map<BranchId, XaBranch> database, boolean asksAboutEverything) {
        this.xa = database;
        this.clusterId = clusterId;
        this.asksAboutEverything = asksAboutEverything;
        this.index = index;
        this.agentId = "agent-" + index;
        this.resourceId = "db-" + index;
        this.invariants = invariants;
        this.random = random;
        this.options = options;
    }

    /** The branches its database holds now (active or prepared), in a stable order: what a foreign agent may pick from. */
    List<BranchId> branchesInDatabase() {
        return new ArrayList<>(xa.keySet());
    }

    /** The database itself, to share it with another deployment's agent. */
    Map<BranchId, XaBranch> database() {
        return xa;
    }

    boolean crashed() {
        return crashed;
    }

    /** The client's XA START on this database (it holds the connection, the agent executes phase commands). */
    boolean start(BranchId x, boolean wrote) {
        if (crashed || xa.containsKey(x)) {
            return false;
        }
        xa.put(x, new XaBranch(wrote));
        invariants.branch(x, Truth.ACTIVE);
        return true;
    }

    /** The client gives up on its branch (it learnt the transaction rolled back, or it died with its session). */
    void rollbackIfActive(BranchId x) {
        XaBranch b = xa.get(x);
        if (!crashed && b != null && b.state == XaState.ACTIVE) {
            xa.remove(x);
            invariants.branch(x, Truth.ROLLED_BACK);
        }
    }

    /** The application's own thread runs a phase command on its branch (one round trip): the answer stays local. */
    Event runForCaller(BranchId x, Action action, long now) {
        return runForCaller(x, action, now, 0);
    }

    /** The same for 3PC's CAN_COMMIT and PRE_COMMIT answered by the application itself: a YES starts the timer it names. */
    Event runForCaller(BranchId x, Action action, long now, long participantTimeoutMillis) {
        if (action == Action.PREPARE || action == Action.PRE_COMMIT) {
            callerCommitting.add(x);
        }
        return execute(new Outbound(agentId, x.gtrid(), x.bqual(), action, participantTimeoutMillis), now);
    }

    /** The application's thread is done with its branch (answered, or it gives up): the agent may ask about it again. */
    void callerDone(BranchId x) {
        callerCommitting.remove(x);
    }

    /** Executes one phase command and returns the agent's answer (a vote or an ack). */
    Event execute(Outbound cmd, long now) {
        BranchId x = new BranchId(cmd.gtrid(), cmd.bqual());
        if (!mine(x)) {
            // Only an inquiry could have brought this: a coordinator that answers for another deployment's
            // branch (presumed abort of a gtrid it never knew) undoes what that deployment may have committed.
            Invariants.fail(agentId + " of cluster " + clusterId + " was told to " + cmd.action() + " " + x
                    + ", a branch of another cluster's deployment that shares its database");
        }
        XaBranch b = xa.get(x);
        lastHeardAt.put(x, now);
        Action own = decidedOnItsOwn.get(x);
        if (own != null) {
            return autonomous(x, own); // whatever the coordinator asks now, this is what happened
        }
        if (cmd.action() == Action.COMMIT || cmd.action() == Action.ROLLBACK) {
            canCommitTimers.remove(x);
            preCommitTimers.remove(x);
        }
        AckResult remembered = heuristics.get(x);
        if (remembered != null && cmd.action() != Action.PREPARE) {
            return ack(x, cmd.action(), remembered);
        }
        if (b != null && b.state == XaState.PREPARED && (cmd.action() == Action.COMMIT || cmd.action() == Action.ROLLBACK)
                && chance(options.heuristicProbability())) {
            return ack(x, cmd.action(), decideHeuristically(x));
        }
        return switch (cmd.action()) {
            case PREPARE -> vote(x, prepare(x, b));
            case COMMIT -> {
                if (b != null) {
                    if (b.state == XaState.ACTIVE) {
                        // XA COMMIT (two-phase) of an unprepared branch: the coordinator skipped phase 1.
                        Invariants.fail("COMMIT reached " + x + " at " + agentId + " which was never prepared");
                    }
                    xa.remove(x);
                    invariants.branch(x, Truth.COMMITTED);
                }
                // Unknown: XAER_NOTA, done (it was committed before, e.g. the ack was lost).
                yield ack(x, Action.COMMIT, AckResult.DONE);
            }
            case ROLLBACK -> {
                if (b != null) {
                    xa.remove(x);
                    invariants.branch(x, Truth.ROLLED_BACK);
                }
                yield ack(x, Action.ROLLBACK, AckResult.DONE);
            }
            case COMMIT_ONE_PHASE -> ack(x, Action.COMMIT_ONE_PHASE, commitOnePhase(x, b));
            case CAN_COMMIT -> new Event.VoteReceived(x.gtrid(), x.bqual(), canCommit(x, b, cmd, now), Action.CAN_COMMIT, agentId);
            case PRE_COMMIT -> new Event.VoteReceived(x.gtrid(), x.bqual(), preCommit(x, b, cmd, now), Action.PRE_COMMIT, agentId);
        };
    }

    /** 3PC's question: nothing durable changes; a YES leaves the branch active and starts its timer. */
    private Vote canCommit(BranchId x, XaBranch b, Outbound cmd, long now) {
        if (b == null) {
            return readOnlyFinished.contains(x) ? Vote.READ_ONLY : Vote.NO;
        }
        if (b.state == XaState.PREPARED) {
            return Vote.YES; // a duplicate that arrived after the PRE_COMMIT
        }
        if (chance(options.noVoteProbability() / 2)) {
            xa.remove(x); // unhealthy: it says NO, and the branch is lost
            invariants.branch(x, Truth.ROLLED_BACK);
            return Vote.NO;
        }
        if (!b.wrote) {
            xa.remove(x);
            readOnlyFinished.add(x);
            invariants.branch(x, Truth.READ_ONLY);
            return Vote.READ_ONLY;
        }
        canCommitTimers.put(x, now + cmd.participantTimeoutMillis());
        return Vote.YES;
    }

    /** 3PC's PRE_COMMIT is XA PREPARE; a YES (now or again) starts the timer after which it commits on its own. */
    private Vote preCommit(BranchId x, XaBranch b, Outbound cmd, long now) {
        canCommitTimers.remove(x);
        if (b == null) {
            return Vote.NO; // rolled back (crash, client gave up, its own timer): it holds no such branch
        }
        if (b.state == XaState.ACTIVE) {
            if (failingPrepares.remove(x) || chance(options.noVoteProbability() / 2)) {
                xa.remove(x); // XA PREPARE failed
                invariants.branch(x, Truth.ROLLED_BACK);
                return Vote.NO;
            }
            b.state = XaState.PREPARED;
            invariants.branch(x, Truth.PREPARED);
        }
        preCommitTimers.put(x, now + cmd.participantTimeoutMillis());
        return Vote.YES;
    }

    /**
     * 3PC: the timers that ran out, carried out and reported. A report made while the link is down is
     * lost with it, and made again on the next connect ({@link #autonomousReports()}).
     */
    List<Event> fireTimers(long now) {
        if (crashed || (canCommitTimers.isEmpty() && preCommitTimers.isEmpty())) {
            return List.of();
        }
        List<Event> out = new ArrayList<>();
        for (var it = canCommitTimers.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            XaBranch b = xa.get(e.getKey());
            if (now >= e.getValue()) {
                it.remove();
                if (b != null && b.state == XaState.ACTIVE) {
                    xa.remove(e.getKey());
                    invariants.branch(e.getKey(), Truth.ROLLED_BACK);
                    decidedOnItsOwn.put(e.getKey(), Action.ROLLBACK);
                    out.add(autonomous(e.getKey(), Action.ROLLBACK));
                }
            }
        }
        for (var it = preCommitTimers.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            XaBranch b = xa.get(e.getKey());
            if (now >= e.getValue()) {
                it.remove();
                if (b != null && b.state == XaState.PREPARED) {
                    xa.remove(e.getKey());
                    invariants.branch(e.getKey(), Truth.COMMITTED);
                    decidedOnItsOwn.put(e.getKey(), Action.COMMIT);
                    out.add(autonomous(e.getKey(), Action.COMMIT));
                }
            }
        }
        return out;
    }

    /** 3PC: everything it decided on its own, reported again after every (re)connect. */
    List<Event> autonomousReports() {
        List<Event> out = new ArrayList<>();
        decidedOnItsOwn.forEach((x, action) -> out.add(autonomous(x, action)));
        return out;
    }

    /** Scripted: the next XA PREPARE (PRE_COMMIT) of this branch fails, so it answers NO. */
    void failNextPrepare(BranchId x) {
        failingPrepares.add(x);
    }

    Map<BranchId, Action> decidedOnItsOwn() {
        return decidedOnItsOwn;
    }

    private Event autonomous(BranchId x, Action action) {
        return new Event.AckReceived(x.gtrid(), x.bqual(), action, AckResult.DONE, true, agentId);
    }

    private Vote prepare(BranchId x, XaBranch b) {
        if (b == null) {
            // Unknown: it rolled back (crash, client gave up) or finished read-only earlier.
            return readOnlyFinished.contains(x) ? Vote.READ_ONLY : Vote.NO;
        }
        if (b.state == XaState.PREPARED) {
            return Vote.YES;
        }
        if (random.nextDouble() < options.noVoteProbability()) {
            xa.remove(x); // PREPARE failed: the database rolled the branch back
            invariants.branch(x, Truth.ROLLED_BACK);
            return Vote.NO;
        }
        if (!b.wrote) {
            // A branch that wrote nothing is finished by the agent itself and leaves phase 2.
            xa.remove(x);
            readOnlyFinished.add(x);
            invariants.branch(x, Truth.READ_ONLY);
            return Vote.READ_ONLY;
        }
        b.state = XaState.PREPARED;
        invariants.branch(x, Truth.PREPARED);
        return Vote.YES;
    }

    private AckResult commitOnePhase(BranchId x, XaBranch b) {
        AckResult known = onePhaseOutcomes.get(x);
        if (known != null) {
            return known; // a resend: answer as before
        }
        AckResult result;
        if (b == null) {
            result = AckResult.ROLLED_BACK_INSTEAD; // nothing left to commit: it died with its session
        } else if (b.state == XaState.PREPARED) {
            Invariants.fail("COMMIT_ONE_PHASE reached " + x + " at " + agentId + " which is prepared");
            return null;
        } else if (chance(options.heuristicProbability())) {
            result = decideHeuristically(x);
        } else if (random.nextDouble() < options.onePhaseFailProbability()) {
            xa.remove(x);
            invariants.branch(x, Truth.ROLLED_BACK);
            result = AckResult.ROLLED_BACK_INSTEAD;
        } else {
            xa.remove(x);
            invariants.branch(x, Truth.COMMITTED);
            result = AckResult.DONE;
        }
        onePhaseOutcomes.put(x, result);
        return result;
    }

    /** The database had decided the branch on its own before our command arrived. */
    private AckResult decideHeuristically(BranchId x) {
        AckResult[] kinds = {AckResult.HEURISTIC_COMMIT, AckResult.HEURISTIC_ROLLBACK, AckResult.HEURISTIC_MIXED};
        AckResult result = kinds[random.nextInt(kinds.length)];
        xa.remove(x);
        heuristics.put(x, result);
        invariants.branch(x, Truth.HEURISTIC);
        return result;
    }

    /** Draws only when the knob is on, so runs without it replay exactly as before it existed. */
    private boolean chance(double p) {
        return p > 0 && random.nextDouble() < p;
    }

    /** Heuristically completed branches this database still remembers. */
    Map<BranchId, AckResult> heuristics() {
        return heuristics;
    }

    /** An operator reconciled the branch by hand and told the database to forget it. */
    void reconcile(BranchId x) {
        heuristics.remove(x);
    }

    private Event vote(BranchId x, Vote v) {
        return new Event.VoteReceived(x.gtrid(), x.bqual(), v, agentId);
    }

    private Event ack(BranchId x, Action action, AckResult result) {
        return new Event.AckReceived(x.gtrid(), x.bqual(), action, result, agentId);
    }

    /** The database and the agent crash together. */
    void crash(long restartAt) {
        crashed = true;
        this.restartAt = restartAt;
        for (var it = xa.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().state == XaState.ACTIVE && mine(e.getKey())) {
                it.remove(); // no session of ours survives a crash; only prepared branches are durable
                invariants.branch(e.getKey(), Truth.ROLLED_BACK);
            }
        }
        onePhaseOutcomes.clear();
        readOnlyFinished.clear();
        lastHeardAt.clear();
        callerCommitting.clear(); // the application's threads died with it
        canCommitTimers.clear(); // 3PC timers are agent memory; what it decided on its own is journaled
        preCommitTimers.clear();
    }

    void restart() {
        crashed = false;
    }

    /** Whether a branch of the (possibly shared) database belongs to this agent's deployment. */
    private boolean mine(BranchId x) {
        return clusterId == null || clusterId.equals(Ids.clusterOf(x.gtrid()));
    }

    /** What recovery asks about: its own deployment's branches, or, misconfigured, everything XA RECOVER lists. */
    private boolean asksAbout(BranchId x) {
        return mine(x) || (asksAboutEverything && !refusedAsNotMine.contains(x.gtrid()));
    }

    /** A coordinator said the gtrid is another deployment's: the agent leaves its branches alone from now on. */
    void notMine(String gtrid) {
        refusedAsNotMine.add(gtrid);
    }

    /** What the agent finds prepared (in memory or by XA RECOVER): it inquires about each on (re)connect. */
    List<Event> inquiries(long now) {
        List<Event> out = new ArrayList<>();
        for (var e : xa.entrySet()) {
            if (e.getValue().state == XaState.PREPARED && !callerCommitting.contains(e.getKey()) && asksAbout(e.getKey())) {
                out.add(inquiry(e.getKey()));
                lastHeardAt.put(e.getKey(), now);
            }
        }
        // XA RECOVER also lists heuristically completed branches: the agent asks about them too, and
        // the answer (COMMIT or ROLLBACK) brings the heuristic back to the coordinator.
        for (BranchId x : heuristics.keySet()) {
            out.add(inquiry(x));
            lastHeardAt.put(x, now);
        }
        return out;
    }

    /**
     * A prepared branch nobody has said anything about for a while gets a fresh inquiry. Over a
     * real stream nothing is lost and the reconnect inquiry suffices; the simulated network loses
     * messages, and an answer lost there would otherwise leave the branch prepared for ever.
     */
    List<Event> overdueInquiries(long now, long quietTicks) {
        List<Event> out = new ArrayList<>();
        for (var e : xa.entrySet()) {
            if (e.getValue().state == XaState.PREPARED && !callerCommitting.contains(e.getKey()) && asksAbout(e.getKey())
                    && now - lastHeardAt.getOrDefault(e.getKey(), now) >= quietTicks) {
                out.add(inquiry(e.getKey()));
                lastHeardAt.put(e.getKey(), now);
            }
        }
        for (BranchId x : heuristics.keySet()) {
            if (now - lastHeardAt.getOrDefault(x, now) >= quietTicks) {
                out.add(inquiry(x));
                lastHeardAt.put(x, now);
            }
        }
        return out;
    }

    /** The coordinator says it never heard of a branch we voted YES for: ask for the outcome (presumed abort). */
    List<Event> inquiriesFor(String gtrid) {
        List<Event> out = new ArrayList<>();
        for (var e : xa.entrySet()) {
            if (e.getKey().gtrid().equals(gtrid) && e.getValue().state == XaState.PREPARED && !callerCommitting.contains(e.getKey())) {
                out.add(inquiry(e.getKey()));
            }
        }
        return out;
    }

    private Event inquiry(BranchId x) {
        return new Event.Inquiry(x.gtrid(), x.bqual(), resourceId, agentId);
    }

    /** Branches the database still holds open: none may remain once the run is quiet. */
    Map<BranchId, String> open() {
        Map<BranchId, String> open = new LinkedHashMap<>();
        xa.forEach((x, b) -> {
            if (mine(x)) {
                open.put(x, b.state.name());
            }
        });
        heuristics.forEach((x, h) -> open.put(x, h.name()));
        return open;
    }
}
