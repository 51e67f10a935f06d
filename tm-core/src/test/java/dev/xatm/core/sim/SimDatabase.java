package dev.xatm.core.sim;

import dev.xatm.core.Ids;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import dev.xatm.core.sim.Invariants.Truth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A simulated XA database: what it does with each XA call, and what survives a crash. It keeps ACTIVE
 * and PREPARED branches; a crash rolls back the active ones of its agent's deployment (their sessions
 * die) and keeps the prepared ones. It fails calls at random as the options say: XA END of an unhealthy
 * branch, XA PREPARE, a one-phase commit, and heuristic decisions of prepared branches, which it
 * remembers (XA RECOVER lists them, every later COMMIT or ROLLBACK hears them) until an operator
 * reconciles them. Every change is reported to {@link Invariants}, the ground truth of the run.
 *
 * <p>Shared by two deployments' agents in a two-cluster run, as a database server two deployments use is.
 * Single-threaded, like the whole world.
 */
final class SimDatabase {
    private enum XaState { ACTIVE, ENDED, PREPARED }

    private static final class XaBranch {
        XaState state = XaState.ACTIVE;
        final boolean wrote;

        XaBranch(boolean wrote) {
            this.wrote = wrote;
        }
    }

    private final Map<BranchId, XaBranch> xa;
    private final Map<BranchId, dev.xatm.core.AckResult> heuristics;
    private final Set<BranchId> failingPrepares;
    private final Invariants invariants;
    private final SplittableRandom random;
    private final SimOptions options;

    SimDatabase(Invariants invariants, SplittableRandom random, SimOptions options) {
        this(new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashSet<>(), invariants, random, options);
    }

    private SimDatabase(Map<BranchId, XaBranch> xa, Map<BranchId, dev.xatm.core.AckResult> heuristics, Set<BranchId> failingPrepares,
                        Invariants invariants, SplittableRandom random, SimOptions options) {
        this.xa = xa;
        this.heuristics = heuristics;
        this.failingPrepares = failingPrepares;
        this.invariants = invariants;
        this.random = random;
        this.options = options;
    }

    /**
     * The same database seen from another deployment's world: the same branches, but changes are reported
     * to that world's invariants and its faults drawn from that world's random source.
     */
    /** The run's invariants, which every database reports to (and clients reach through their agent's database). */
    Invariants invariants() {
        return invariants;
    }

    SimDatabase sharedWith(Invariants invariants, SplittableRandom random, SimOptions options) {
        return new SimDatabase(xa, heuristics, failingPrepares, invariants, random, options);
    }

    /** XA START for the business code; false if the branch exists already. */
    boolean start(BranchId x, boolean wrote) {
        if (xa.containsKey(x)) {
            return false;
        }
        xa.put(x, new XaBranch(wrote));
        invariants.branch(x, Truth.ACTIVE);
        return true;
    }

    /** Runs one XA call on a branch, as a driver's XAResource call would end. */
    XaResult run(XaCall call) {
        BranchId x = new BranchId(call.key().gtrid(), call.key().bqual());
        XaBranch b = xa.get(x);
        dev.xatm.core.AckResult remembered = heuristics.get(x);
        switch (call.op()) {
            case END, END_CHECKED -> {
                if (b == null) {
                    return XaResult.NOT_FOUND;
                }
                if (b.state != XaState.ACTIVE) {
                    return XaResult.FAILED; // XA END twice: XAER_RMFAIL ... IDLE state
                }
                if (chance(options.noVoteProbability() / 2)) {
                    remove(x, Truth.ROLLED_BACK); // unhealthy: the session is gone, and the branch with it
                    // CAN_COMMIT's health check (Connection.isValid) sees that before XA END: UNAVAILABLE
                    return call.op() == XaOp.END_CHECKED ? XaResult.UNAVAILABLE : XaResult.FAILED;
                }
                b.state = XaState.ENDED;
                return XaResult.OK;
            }
            case END_FAIL -> {
                if (b == null || b.state != XaState.ACTIVE) {
                    return XaResult.FAILED;
                }
                b.state = XaState.ENDED;
                return XaResult.OK;
            }
            case PREPARE -> {
                if (b == null) {
                    return XaResult.NOT_FOUND;
                }
                if (b.state == XaState.PREPARED) {
                    return XaResult.FAILED; // XAER_PROTO: prepared already
                }
                if (b.state == XaState.ACTIVE) {
                    Invariants.fail("XA PREPARE of " + x + " before XA END");
                }
                if (failingPrepares.remove(x) || random.nextDouble() < options.noVoteProbability()) {
                    remove(x, Truth.ROLLED_BACK); // PREPARE failed: the database rolled the branch back
                    return XaResult.ROLLED_BACK;
                }
                b.state = XaState.PREPARED;
                invariants.branch(x, Truth.PREPARED);
                return XaResult.OK;
            }
            case COMMIT -> {
                if (remembered != null) {
                    return heuristic(remembered);
                }
                if (b == null) {
                    return XaResult.NOT_FOUND;
                }
                if (b.state != XaState.PREPARED) {
                    Invariants.fail("XA COMMIT (two-phase) reached " + x + " which was never prepared");
                }
                if (chance(options.heuristicProbability())) {
                    return decideHeuristically(x);
                }
                remove(x, Truth.COMMITTED);
                return XaResult.OK;
            }
            case ROLLBACK -> {
                if (remembered != null) {
                    return heuristic(remembered);
                }
                if (b == null) {
                    return XaResult.NOT_FOUND;
                }
                if (b.state == XaState.PREPARED && chance(options.heuristicProbability())) {
                    return decideHeuristically(x);
                }
                remove(x, Truth.ROLLED_BACK);
                return XaResult.OK;
            }
            case COMMIT_ONE_PHASE -> {
                if (remembered != null) {
                    return heuristic(remembered);
                }
                if (b == null) {
                    return XaResult.NOT_FOUND;
                }
                if (b.state == XaState.PREPARED) {
                    Invariants.fail("XA COMMIT ONE PHASE reached " + x + " which is prepared");
                }
                if (!b.wrote) {
                    remove(x, Truth.READ_ONLY); // it wrote nothing: neither outcome
                    return XaResult.OK;
                }
                if (chance(options.heuristicProbability())) {
                    return decideHeuristically(x);
                }
                if (random.nextDouble() < options.onePhaseFailProbability()) {
                    remove(x, Truth.ROLLED_BACK);
                    return XaResult.ROLLED_BACK;
                }
                remove(x, Truth.COMMITTED);
                return XaResult.OK;
            }
            default -> throw new IllegalArgumentException("not a branch call: " + call);
        }
    }

    /** XA RECOVER: every prepared branch and every remembered heuristic, whichever deployment's. */
    List<BranchKey> recover() {
        List<BranchKey> out = new ArrayList<>();
        xa.forEach((x, b) -> {
            if (b.state == XaState.PREPARED) {
                out.add(new BranchKey(x.gtrid(), x.bqual()));
            }
        });
        for (BranchId x : heuristics.keySet()) {
            out.add(new BranchKey(x.gtrid(), x.bqual()));
        }
        return out;
    }

    /** The agent of {@code clusterId} crashed with its sessions: their active branches roll back; prepared ones stay. */
    void sessionsDied(String clusterId) {
        for (var it = xa.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().state != XaState.PREPARED && (clusterId == null || clusterId.equals(Ids.clusterOf(e.getKey().gtrid())))) {
                it.remove();
                invariants.branch(e.getKey(), Truth.ROLLED_BACK);
            }
        }
    }

    /** Scripted: the next XA PREPARE of this branch fails. */
    void failNextPrepare(BranchId x) {
        failingPrepares.add(x);
    }

    List<BranchId> branches() {
        return new ArrayList<>(xa.keySet());
    }

    Map<BranchId, dev.xatm.core.AckResult> heuristics() {
        return heuristics;
    }

    /** An operator reconciled the branch by hand and told the database to forget it. */
    void reconcile(BranchId x) {
        heuristics.remove(x);
    }

    /** Branches of {@code clusterId} (null: all) still open here, and heuristics not reconciled. */
    Map<BranchId, String> open(String clusterId) {
        Map<BranchId, String> open = new LinkedHashMap<>();
        xa.forEach((x, b) -> {
            if (clusterId == null || clusterId.equals(Ids.clusterOf(x.gtrid()))) {
                open.put(x, b.state.name());
            }
        });
        heuristics.forEach((x, h) -> open.put(x, h.name()));
        return open;
    }

    private XaResult decideHeuristically(BranchId x) {
        dev.xatm.core.AckResult[] kinds = {dev.xatm.core.AckResult.HEURISTIC_COMMIT, dev.xatm.core.AckResult.HEURISTIC_ROLLBACK,
                dev.xatm.core.AckResult.HEURISTIC_MIXED};
        dev.xatm.core.AckResult result = kinds[random.nextInt(kinds.length)];
        xa.remove(x);
        heuristics.put(x, result);
        invariants.branch(x, Truth.HEURISTIC);
        return heuristic(result);
    }

    private static XaResult heuristic(dev.xatm.core.AckResult r) {
        return XaResult.valueOf(r.name());
    }

    private void remove(BranchId x, Truth to) {
        xa.remove(x);
        invariants.branch(x, to);
    }

    /** Draws only when the knob is on, so runs without it draw as before it existed. */
    /**
     * How long the business code keeps using a branch's connection after its statements ran (a scope
     * that closes late: a cursor, an async callback): mostly 0, else 1..40 ticks, long enough for a
     * phase command to arrive meanwhile and be parked.
     */
    long lingerTicks() {
        return random.nextInt(8) == 0 ? 1 + random.nextInt(40) : 0;
    }

    private boolean chance(double p) {
        return p > 0 && random.nextDouble() < p;
    }
}
