package dev.xatm.core.view;

import dev.xatm.core.TxnStatus;

import java.util.List;
import java.util.Optional;

/**
 * Read-only queries over the coordinator's transactions, for the admin API. Every answer is a copy
 * that stays valid after the call; nothing here changes the coordinator.
 *
 * <p>Not thread-safe, like the coordinator it reads: call it on the coordinator's own thread (the
 * driver runs each query as one more task of its loop) and hand the copies to other threads.
 */
public interface TxnViews {

    /** At most this many transactions per list. */
    int MAX_LIMIT = 1_000;

    /**
     * Live, held and remembered transactions, newest first (most recently begun or restored).
     *
     * @param status only this status, or null for all
     * @param limit  1..{@link #MAX_LIMIT}
     */
    List<TxnSummary> list(TxnStatus status, int limit);

    /**
     * The transactions matching {@code query}, newest first, from position {@code before} on: a stable
     * cursor (each transaction's position in arrival order never changes, so a page neither repeats nor
     * skips one that was already listed, while newer arrivals appear only on a fresh first page).
     *
     * @param before {@link Long#MAX_VALUE} for the first page, else a {@link TxnPage#next()}
     * @param limit  1..{@link #MAX_LIMIT}
     */
    TxnPage page(TxnQuery query, long before, int limit);

    /**
     * One transaction with branches and history, and its in-doubt reasons judged with
     * {@code inDoubtThresholdMillis} (see {@link #inDoubt}); empty if the coordinator does not know the gtrid.
     */
    Optional<TxnDetail> detail(String gtrid, long inDoubtThresholdMillis);

    /**
     * Every transaction that needs an operator, newest first: outcome not applied to every branch for
     * {@code thresholdMillis} or more since it was decided, a pending branch whose agent is gone, a
     * heuristic outcome or hazard that no operator has forgotten yet.
     */
    List<InDoubtTxn> inDoubt(long thresholdMillis, int limit);

    /**
     * How many unfinished transactions are in each protocol step now, keyed {@code "<protocol>/<phase>"}
     * (e.g. {@code "3PC/PRE_COMMIT"}, see {@link TxnSummary#phase()}); steps with none are absent. One
     * pass over the live transactions, for metrics.
     */
    java.util.Map<String, Integer> liveByProtocolAndPhase();
}
