package dev.xatm.core.sim;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.cluster.LeaseRules;
import dev.xatm.core.cluster.NodeRow;

import java.util.SplittableRandom;

/**
 * The faults and shape of one run of several coordinator nodes on one shared store
 * ({@link SimCluster}), drawn once per seed like {@link SimOptions}. Time is in ticks, one tick one
 * millisecond of the store's clock and of every node's.
 *
 * @param nodes              coordinator nodes sharing the store, each with its lease row
 * @param agents             agents, each running the real participant core over one database
 * @param clients            clients, each running one 2PC transaction on the node it begins at
 * @param faultTicks         how long faults are injected before the run heals
 * @param leaseTtlTicks      a lease lasts this long; renewed every ttl/4, others watched every ttl/2
 * @param freezePerTick      a running node freezes (a GC pause, SIGSTOP): it stops stepping, its
 *                           statements wait, then it resumes with the epoch it had
 * @param freezeMaxTicks     ... for 1..this long, often past the lease, so that it is taken over
 * @param crashPerTick       a running node crashes: what it had not yet sent to the store is lost,
 *                           except a random prefix; it restarts as a new incarnation
 * @param downMaxTicks       ... after 1..this long
 * @param delayMaxTicks      every message takes 1..this many ticks; different delays reorder
 * @param storeLatencyMaxTicks a statement reaches the store 1..this many ticks after it is issued
 * @param noVoteProbability  a branch fails its PREPARE and votes NO (and half as often its XA END)
 * @param inquiryEveryTicks  the participant core's {@code reinquireMillis}: a prepared branch nobody
 *                           spoke of this long is asked about again, of its node while that stream is
 *                           open, else of another open node
 * @param takeover           the takeover's compare-and-set: {@link #FENCED} is the real rule; a test
 *                           plants {@link #IGNORES_EPOCH} to show that the simulation catches it
 * @param coordinator        every node's core configuration
 */
public record HaOptions(
        int nodes,
        int agents,
        int clients,
        int faultTicks,
        long leaseTtlTicks,
        double freezePerTick,
        int freezeMaxTicks,
        double crashPerTick,
        int downMaxTicks,
        int delayMaxTicks,
        int storeLatencyMaxTicks,
        double noVoteProbability,
        int inquiryEveryTicks,
        Takeover takeover,
        CoordinatorConfig coordinator) {

    /** The row a takeover's compare-and-set writes, or null when it fails (see {@link LeaseRules#takeOver}). */
    @FunctionalInterface
    public interface Takeover {
        NodeRow takeOver(NodeRow current, int taker, long seenEpoch, long now);
    }

    /** The rule the JDBC store runs: compare the epoch seen, bump it, name the taker. */
    public static final Takeover FENCED = LeaseRules::takeOver;

    /**
     * A planted bug: the takeover compares and names the taker but leaves the epoch where it was, so
     * the dead incarnation's fence still admits its writes. A frozen node that wakes up then inserts
     * decisions for transactions its adopter already presumes undecided.
     */
    public static final Takeover IGNORES_EPOCH = (current, taker, seenEpoch, now) -> {
        NodeRow bumped = LeaseRules.takeOver(current, taker, seenEpoch, now);
        return bumped == null ? null : new NodeRow(current.nodeId(), current.epoch(), current.expiresAt(), taker);
    };

    /** A run with a random shape; some seeds calm, most with frozen and crashing nodes. */
    static HaOptions random(SplittableRandom r) {
        long ttl = r.nextInt(30, 81);
        long retryInitial = r.nextInt(2, 9);
        return new HaOptions(
                r.nextInt(2, 5),
                r.nextInt(2, 5),
                r.nextInt(6, 25),
                500,
                ttl,
                pick(r, 0, 0.001, 0.003, 0.006),
                (int) (ttl * pick(r, 0.5, 2, 4)),
                pick(r, 0, 0, 0.001, 0.003),
                r.nextInt(10, 150),
                r.nextInt(1, 9),
                r.nextInt(1, 9),
                pick(r, 0, 0.05, 0.2),
                r.nextInt(20, 80),
                FENCED,
                new CoordinatorConfig(r.nextInt(20, 121), retryInitial, retryInitial + r.nextInt(0, 60), 4, 100, 10_000));
    }

    /** The same run with another takeover rule. */
    HaOptions withTakeover(Takeover rule) {
        return new HaOptions(nodes, agents, clients, faultTicks, leaseTtlTicks, freezePerTick, freezeMaxTicks, crashPerTick,
                downMaxTicks, delayMaxTicks, storeLatencyMaxTicks, noVoteProbability, inquiryEveryTicks, rule, coordinator);
    }

    private static double pick(SplittableRandom r, double... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
