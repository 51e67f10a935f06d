package dev.xatm.core.commit;

import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.InDoubtTxn;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnPage;
import dev.xatm.core.view.TxnQuery;
import dev.xatm.core.view.TxnSummary;
import dev.xatm.core.view.TxnViews;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The coordinator's transactions as read-only copies for the admin API (see {@link TxnViews}).
 * Reads, never writes: a query cannot change what the protocol does. Lists are "newest first" by
 * arrival in this coordinator (begin, or restore from the log), and cost one pass over the known
 * transactions plus a heap of {@code limit} entries. Not thread-safe; owned by the {@link Coordinator}.
 */
final class AdminViews implements TxnViews {
    private final TxnTable txns;
    private final Set<String> goneAgents;
    private final Set<String> connectedAgents;
    private final LongSupplier now;

    AdminViews(TxnTable txns, Set<String> goneAgents, Set<String> connectedAgents, LongSupplier now) {
        this.txns = txns;
        this.goneAgents = goneAgents;
        this.connectedAgents = connectedAgents;
        this.now = now;
    }

    @Override
    public List<TxnSummary> list(TxnStatus status, int limit) {
        checkLimit(limit);
        List<GlobalTxn> newest = newest(limit, t -> status == null || t.state().status == status, false);
        List<TxnSummary> out = new ArrayList<>(newest.size());
        for (GlobalTxn t : newest) {
            out.add(summary(t));
        }
        return out;
    }

    @Override
    public TxnPage page(TxnQuery query, long before, int limit) {
        checkLimit(limit);
        long nowMillis = now.getAsLong();
        PriorityQueue<GlobalTxn> best = new PriorityQueue<>(Comparator.comparingLong(GlobalTxn::seq));
        int[] total = {0};
        int[] older = {0};
        txns.forEach(t -> {
            if (!matches(t, query, nowMillis)) {
                return;
            }
            total[0]++;
            if (t.seq() >= before) {
                return;
            }
            older[0]++;
            best.add(t);
            if (best.size() > limit) {
                best.poll();
            }
        });
        List<GlobalTxn> newest = new ArrayList<>(best);
        newest.sort(Comparator.comparingLong((GlobalTxn t) -> t.seq()).reversed());
        List<TxnSummary> items = new ArrayList<>(newest.size());
        for (GlobalTxn t : newest) {
            items.add(summary(t));
        }
        long next = older[0] > newest.size() ? newest.get(newest.size() - 1).seq() : -1;
        return new TxnPage(items, total[0], next);
    }

    private static boolean matches(GlobalTxn t, TxnQuery q, long nowMillis) {
        return (q.status() == null || t.state().status == q.status())
                && (q.protocol() == null || t.protocol().label.equals(q.protocol()))
                && (q.name() == null || q.name().equals(t.name()))
                && (q.minAgeMillis() == 0 || t.begunMillis() < 0 || nowMillis - t.begunMillis() >= q.minAgeMillis());
    }

    @Override
    public Optional<TxnDetail> detail(String gtrid, long inDoubtThresholdMillis) {
        GlobalTxn t = txns.find(gtrid);
        if (t == null) {
            return Optional.empty();
        }
        List<BranchView> branches = new ArrayList<>(t.branchCount());
        for (BranchProgress b : t.branches()) {
            branches.add(branch(b));
        }
        return Optional.of(new TxnDetail(summary(t), branches, InDoubtRules.reasons(t, now.getAsLong(), Math.max(0, inDoubtThresholdMillis), goneAgents),
                t.history().entries(), t.history().dropped()));
    }

    @Override
    public List<InDoubtTxn> inDoubt(long thresholdMillis, int limit) {
        checkLimit(limit);
        if (thresholdMillis < 0) {
            throw new IllegalArgumentException("thresholdMillis must be >= 0, got " + thresholdMillis);
        }
        long nowMillis = now.getAsLong();
        List<GlobalTxn> newest = newest(limit, t -> !InDoubtRules.reasons(t, nowMillis, thresholdMillis, goneAgents).isEmpty(), true);
        List<InDoubtTxn> out = new ArrayList<>(newest.size());
        for (GlobalTxn t : newest) {
            out.add(new InDoubtTxn(summary(t), InDoubtRules.reasons(t, nowMillis, thresholdMillis, goneAgents)));
        }
        return out;
    }

    @Override
    public java.util.Map<String, Integer> liveByProtocolAndPhase() {
        java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
        for (GlobalTxn t : txns.liveTxns()) {
            counts.merge(t.protocol().label + "/" + phase(t), 1, Integer::sum);
        }
        return counts;
    }

    /** The {@code limit} newest matches, newest first: one pass, a min-heap of the best so far. */
    private List<GlobalTxn> newest(int limit, Predicate<GlobalTxn> filter, boolean unsettledOnly) {
        PriorityQueue<GlobalTxn> best = new PriorityQueue<>(Comparator.comparingLong(GlobalTxn::seq));
        Consumer<GlobalTxn> consider = t -> {
            if (filter.test(t)) {
                best.add(t);
                if (best.size() > limit) {
                    best.poll();
                }
            }
        };
        if (unsettledOnly) {
            txns.forEachUnsettled(consider);
        } else {
            txns.forEach(consider);
        }
        List<GlobalTxn> out = new ArrayList<>(best);
        out.sort(Comparator.comparingLong((GlobalTxn t) -> t.seq()).reversed());
        return out;
    }

    private static TxnSummary summary(GlobalTxn t) {
        return new TxnSummary(t.gtrid(), t.name(), t.protocol().label, phase(t), t.state().status, t.outcome(), t.begunMillis(),
                t.decidedMillis(), t.finishedMillis(), t.deadlineMillis(), t.branchCount(), t.restored(), t.acknowledgedBy());
    }

    /**
     * The protocol step the transaction is in, in the protocol's own words: 2PC PREPARE then COMMIT or
     * ROLLBACK; 3PC CAN_COMMIT, PRE_COMMIT, then DO_COMMIT or ABORT; ONE_PHASE for a single branch.
     */
    static String phase(GlobalTxn t) {
        boolean three = t.protocol() == dev.xatm.core.Protocol.THREE_PHASE;
        return switch (t.state()) {
            case ACTIVE -> "ACTIVE";
            case PREPARING -> "PREPARE";
            case CAN_COMMIT -> "CAN_COMMIT";
            case LOGGING_PRE_COMMIT, PRE_COMMIT -> "PRE_COMMIT";
            case COMMITTING_ONE_PHASE -> "ONE_PHASE";
            case LOGGING_DECISION, COMMITTING -> three ? "DO_COMMIT" : "COMMIT";
            case ROLLING_BACK -> three ? "ABORT" : "ROLLBACK";
            default -> "FINISHED";
        };
    }

    private BranchView branch(BranchProgress b) {
        BranchView.AgentState agent = connectedAgents.contains(b.agentId()) ? BranchView.AgentState.CONNECTED
                : goneAgents.contains(b.agentId()) ? BranchView.AgentState.GONE : BranchView.AgentState.NOT_SEEN;
        return new BranchView(b.bqual(), b.branch().resourceId(), b.agentId(), b.branch().agentId(), agent,
                b.phase().name(), b.vote(), b.pending(), b.attempts(), b.lastSentMillis(), b.heuristic(), b.autonomous());
    }

    private static void checkLimit(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT + ", got " + limit);
        }
    }
}
