package dev.xatm.core;

/**
 * The coordinator core's limits and timings, validated once. All durations are in the driver's
 * clock units (milliseconds of a monotonic clock).
 *
 * @param prepareTimeoutMillis  how long a branch may take to vote; a missing vote then counts as NO
 * @param retryInitialMillis    first resend interval of an unanswered phase command
 * @param retryMaxMillis        the resend interval doubles up to this bound, and then keeps going:
 *                              phase 2 never gives up
 * @param maxBranchesPerTxn     branches one global transaction may register
 * @param maxLiveTxns           unfinished transactions the coordinator holds; begins past it are refused
 * @param finishedMemory        how many finished transactions are remembered, to answer late or
 *                              repeated requests with the real outcome instead of "unknown"
 * @param threePhase            the timeouts of three-phase commit, on both sides
 * @param defaultProtocol       the protocol of a transaction whose Begin names none
 * @param clusterId             the deployment's cluster id, which every gtrid its clients mint names
 *                              ({@link Ids#clusterOf}); the coordinator answers no inquiry about a
 *                              gtrid that names another cluster. Null when unknown (tests): then no
 *                              gtrid counts as another cluster's
 */
public record CoordinatorConfig(
        long prepareTimeoutMillis,
        long retryInitialMillis,
        long retryMaxMillis,
        int maxBranchesPerTxn,
        int maxLiveTxns,
        int finishedMemory,
        ThreePhaseTimeouts threePhase,
        Protocol defaultProtocol,
        String clusterId) {

    public static CoordinatorConfig defaults() {
        return new CoordinatorConfig(10_000, 200, 5_000, 64, 100_000, 10_000);
    }

    /** The 2PC settings with the default 3PC timeouts and 2PC as the default protocol. */
    public CoordinatorConfig(long prepareTimeoutMillis, long retryInitialMillis, long retryMaxMillis,
                             int maxBranchesPerTxn, int maxLiveTxns, int finishedMemory) {
        this(prepareTimeoutMillis, retryInitialMillis, retryMaxMillis, maxBranchesPerTxn, maxLiveTxns, finishedMemory,
                ThreePhaseTimeouts.defaults(), Protocol.TWO_PHASE, null);
    }

    /** Without a cluster id. */
    public CoordinatorConfig(long prepareTimeoutMillis, long retryInitialMillis, long retryMaxMillis, int maxBranchesPerTxn,
                             int maxLiveTxns, int finishedMemory, ThreePhaseTimeouts threePhase, Protocol defaultProtocol) {
        this(prepareTimeoutMillis, retryInitialMillis, retryMaxMillis, maxBranchesPerTxn, maxLiveTxns, finishedMemory, threePhase,
                defaultProtocol, null);
    }

    public CoordinatorConfig withThreePhase(ThreePhaseTimeouts timeouts, Protocol defaultProtocol) {
        return new CoordinatorConfig(prepareTimeoutMillis, retryInitialMillis, retryMaxMillis, maxBranchesPerTxn,
                maxLiveTxns, finishedMemory, timeouts, defaultProtocol, clusterId);
    }

    public CoordinatorConfig withClusterId(String clusterId) {
        return new CoordinatorConfig(prepareTimeoutMillis, retryInitialMillis, retryMaxMillis, maxBranchesPerTxn,
                maxLiveTxns, finishedMemory, threePhase, defaultProtocol, clusterId);
    }

    /** Whether {@code gtrid} names a cluster other than this coordinator's (false for a gtrid naming none). */
    public boolean foreignGtrid(String gtrid) {
        if (clusterId == null) {
            return false;
        }
        String named = Ids.clusterOf(gtrid);
        return named != null && !named.equals(clusterId);
    }

    public CoordinatorConfig {
        java.util.Objects.requireNonNull(threePhase, "threePhase");
        java.util.Objects.requireNonNull(defaultProtocol, "defaultProtocol");
        if (clusterId != null && Ids.clusterOf("p:" + clusterId + "-u") == null) {
            throw new IllegalArgumentException("clusterId must be 4..16 characters of [a-z0-9], got " + Ids.quote(clusterId));
        }
        positive("prepareTimeoutMillis", prepareTimeoutMillis);
        positive("retryInitialMillis", retryInitialMillis);
        positive("retryMaxMillis", retryMaxMillis);
        positive("maxBranchesPerTxn", maxBranchesPerTxn);
        positive("maxLiveTxns", maxLiveTxns);
        if (finishedMemory < 0) {
            throw new IllegalArgumentException("finishedMemory must be >= 0, got " + finishedMemory);
        }
        if (retryMaxMillis < retryInitialMillis) {
            throw new IllegalArgumentException("retryMaxMillis (" + retryMaxMillis + ") must be >= retryInitialMillis (" + retryInitialMillis + ")");
        }
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
