package dev.xatm.core.sim;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Protocol;
import dev.xatm.core.ThreePhaseTimeouts;

import java.util.SplittableRandom;

/**
 * Every fault and behaviour of a simulated run as a parameter, drawn once per seed (like
 * TigerBeetle's PacketSimulatorOptions). Time is in ticks; the coordinator reads one tick as one
 * millisecond. Probabilities named "...PerTick" apply to each party on each tick.
 *
 * @param agents                     simulated agents, each holding one database (resource)
 * @param clients                    clients, each running one global transaction
 * @param faultTicks                 how long faults are injected before the run heals
 * @param clientStartWindowTicks     clients begin at a random tick inside this window
 * @param lossProbability            an agent-link message is dropped
 * @param duplicateProbability       an agent-link message is delivered twice
 * @param delayMaxTicks              every message takes 1..this many ticks; different delays reorder
 * @param partitionPerTick           an agent's link is cut (both sides see it end)
 * @param partitionMaxTicks          ... for up to this long
 * @param participantCrashPerTick    an agent and its database crash: active branches roll back,
 *                                   prepared ones survive, the agent's memory is lost
 * @param participantDownMaxTicks    ... and stay down up to this long
 * @param coordinatorCrashPerTick    the coordinator crashes: unsynced log appends may be lost or torn
 * @param coordinatorDownMaxTicks    ... and stays down up to this long
 * @param logLatencyMaxTicks         an append is durable 1..this many ticks after it is written
 * @param crashKeepsUnsyncedProbability on a coordinator crash, a random prefix of the unsynced appends
 *                                   reached the disk anyway (the OS flushed them)
 * @param tornTailProbability        on a crash, the first lost append is left torn on disk
 * @param noVoteProbability          a branch fails its PREPARE and votes NO
 * @param readOnlyProbability        a branch wrote nothing, and votes READ_ONLY
 * @param onePhaseFailProbability    a one-phase commit rolls back instead
 * @param rollbackProbability        a client asks to roll back instead of committing
 * @param abandonProbability         a client never finishes (its transaction must time out)
 * @param maxBranchesPerClient       each client registers 1..this many branches
 * @param coordinator                the core's configuration for the run
 * @param heuristicProbability       a database decides a prepared branch on its own before COMMIT or
 *                                   ROLLBACK reaches it (or a one-phase commit ends heuristically) and
 *                                   answers with a heuristic outcome, which it remembers until an
 *                                   operator reconciles it
 * @param operatorActionPerTick      an operator forces a commit or a rollback of a random transaction
 *                                   through the admin events, or forgets held heuristics
 * @param threePhaseShare            a client runs its transaction with three-phase commit (else 2PC);
 *                                   0 in the 2PC runs, which then draw exactly as before 3PC existed
 * @param foreignAgentPerTick        a connected agent sends a vote (YES) or an acknowledgement (DONE) for a
 *                                   branch another agent holds, as any holder of the shared client token
 *                                   could: the coordinator must refuse every one of them
 */
public record SimOptions(
        int agents,
        int clients,
        int faultTicks,
        int clientStartWindowTicks,
        double lossProbability,
        double duplicateProbability,
        int delayMaxTicks,
        double partitionPerTick,
        int partitionMaxTicks,
        double participantCrashPerTick,
        int participantDownMaxTicks,
        double coordinatorCrashPerTick,
        int coordinatorDownMaxTicks,
        int logLatencyMaxTicks,
        double crashKeepsUnsyncedProbability,
        double tornTailProbability,
        double noVoteProbability,
        double readOnlyProbability,
        double onePhaseFailProbability,
        double rollbackProbability,
        double abandonProbability,
        int maxBranchesPerClient,
        CoordinatorConfig coordinator,
        double heuristicProbability,
        double operatorActionPerTick,
        double threePhaseShare,
        double foreignAgentPerTick) {

    /**
     * A run with a random shape: some seeds calm, some hostile, most in between. The operator and
     * heuristic knobs come from their own random source, so a seed that draws them as 0 replays exactly
     * as it did before they existed.
     */
    static SimOptions random(SplittableRandom r, SplittableRandom operatorKnobs) {
        long retryInitial = r.nextInt(1, 9);
        return new SimOptions(
                r.nextInt(2, 6),
                r.nextInt(3, 15),
                250,
                150,
                pick(r, 0, 0, 0.02, 0.1, 0.25),
                pick(r, 0, 0.05, 0.2),
                r.nextInt(1, 9),
                pick(r, 0, 0.002, 0.01),
                r.nextInt(10, 100),
                pick(r, 0, 0.001, 0.005),
                r.nextInt(5, 100),
                pick(r, 0, 0.002, 0.01),
                r.nextInt(5, 60),
                r.nextInt(1, 11),
                0.5,
                0.5,
                pick(r, 0, 0.05, 0.2),
                pick(r, 0, 0.1, 0.3),
                pick(r, 0, 0.1),
                0.1,
                0.1,
                r.nextInt(1, 5),
                new CoordinatorConfig(
                        r.nextInt(20, 121),
                        retryInitial,
                        retryInitial + r.nextInt(0, 60),
                        r.nextInt(4) == 0 ? 2 : 4,           // sometimes too few: RESOURCE_EXHAUSTED on register
                        r.nextInt(4) == 0 ? r.nextInt(1, 5) : 100, // sometimes too few: RESOURCE_EXHAUSTED on begin
                        // Mostly enough to remember every transaction of the run; sometimes tiny, so the
                        // FIFO forgets while clients and agents still ask (rule 11).
                        r.nextInt(8) == 0 ? r.nextInt(0, 4) : 10_000),
                pick(operatorKnobs, 0, 0, 0.02, 0.1),
                pick(operatorKnobs, 0, 0, 0.005, 0.02),
                0,
                pick(operatorKnobs, 0, 0, 0.01, 0.05));
    }

    /**
     * A random run that mixes 2PC and 3PC transactions, with the faults 3PC is meant to survive and
     * nothing else: crash-stop and crash-recovery of agents and of the coordinator, delayed, reordered
     * and duplicated messages; no partitions and no message loss (3PC cannot be atomic under either,
     * see {@code ThreePhasePartitionHazardTest}), and no heuristic databases (a separate concern).
     *
     * <p>The timing 3PC's safety rests on ({@link ThreePhaseTimeouts}): a participant waits
     * {@code participantPreCommitMillis}, which is {@code preCommitMillis} plus a margin of 150..300
     * ticks, before it commits on its own. Every delay that can stand between the coordinator's abort
     * and a participant hearing it is kept well below that margin: a message takes at most 8 ticks, the
     * coordinator is down at most 40, an agent at most 40 (plus at most 5 to reconnect). The javadoc of
     * {@code SimulationTest#threePhaseRunsKeepAtomicityWithoutPartitions} says why the agents' downtime
     * is bounded too.
     */
    static SimOptions threePhase(SplittableRandom r) {
        long retryInitial = r.nextInt(1, 9);
        long canCommit = r.nextInt(20, 121);
        long preCommit = r.nextInt(20, 121);
        ThreePhaseTimeouts timeouts = new ThreePhaseTimeouts(canCommit, preCommit,
                canCommit + r.nextInt(30, 300), preCommit + r.nextInt(150, 301));
        CoordinatorConfig coordinator = new CoordinatorConfig(
                r.nextInt(20, 121),
                retryInitial,
                retryInitial + r.nextInt(0, 60),
                r.nextInt(4) == 0 ? 2 : 4,
                r.nextInt(4) == 0 ? r.nextInt(1, 5) : 100,
                r.nextInt(8) == 0 ? r.nextInt(0, 4) : 10_000)
                .withThreePhase(timeouts, Protocol.TWO_PHASE);
        return new SimOptions(
                r.nextInt(2, 6),
                r.nextInt(3, 15),
                250,
                150,
                0,                                   // no message loss
                pick(r, 0, 0.05, 0.2),
                r.nextInt(1, 9),
                0,                                   // no partitions
                0,
                pick(r, 0, 0.001, 0.005),
                r.nextInt(5, 41),
                pick(r, 0, 0.002, 0.01),
                r.nextInt(5, 41),
                // Sometimes a disk slower than the participants' timers: a participant then commits on its
                // own while the COMMIT decision is being written (or rolls back while the PRE_COMMIT record
                // is), which exercises the autonomous paths in schedules where they must agree.
                r.nextInt(4) == 0 ? r.nextInt(100, 501) : r.nextInt(1, 11),
                0.5,
                0.5,
                pick(r, 0, 0.05, 0.2),
                pick(r, 0, 0.1, 0.3),
                pick(r, 0, 0.1),
                0.1,
                0.1,
                r.nextInt(1, 5),
                coordinator,
                0,                                   // no heuristic databases
                pick(r, 0, 0, 0.005, 0.02),
                pick(r, 0.5, 0.8, 1.0),
                pick(r, 0, 0, 0.01, 0.05));
    }

    /** True when the coordinator may forget finished transactions of this run. */
    boolean forgetsFinished() {
        return coordinator.finishedMemory() < clients;
    }

    /** No faults at all, short delays: for scripted scenarios, which inject their own. */
    public static SimOptions calm(int agents) {
        return new SimOptions(agents, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, agents,
                new CoordinatorConfig(50, 4, 32, 8, 100, 10_000), 0, 0, 0, 0);
    }

    /**
     * {@link #calm} with three-phase commit as the coordinator's default: it waits 50 ticks for CAN_COMMIT
     * answers and 60 for PRE_COMMIT answers; a participant waits 200 ticks after CAN_COMMIT and 300 after
     * PRE_COMMIT before it decides on its own. For scripted 3PC scenarios.
     */
    public static SimOptions calmThreePhase(int agents) {
        SimOptions calm = calm(agents);
        return new SimOptions(agents, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, agents,
                calm.coordinator().withThreePhase(new ThreePhaseTimeouts(50, 60, 200, 300), Protocol.THREE_PHASE), 0, 0, 0, 0);
    }

    private static double pick(SplittableRandom r, double... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
