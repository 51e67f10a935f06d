package dev.xatm.core.cluster;

/**
 * The lease and takeover rules of the shared store (rules R3, and who holds a live lease) as pure
 * functions over {@link NodeRow}s, with {@code now} on the store's clock. Leases only pick who works;
 * safety rests on the epoch ({@link StoreRules#fenceAdmits}). Each function returns the row a
 * compare-and-set would write, or null when the compare fails, so the JDBC store's UPDATEs and the
 * simulated store compute the same thing.
 *
 * <p>Stateless and thread-safe.
 */
public final class LeaseRules {

    private LeaseRules() {}

    /** A start: a new incarnation of {@code nodeId}, one epoch past its row (or epoch 1 without one). */
    public static NodeRow claim(NodeRow current, int nodeId, long now, long ttl) {
        return new NodeRow(nodeId, current == null ? 1 : current.epoch() + 1, now + ttl, 0);
    }

    /** A renewal by {@code self}: null when its epoch moved (it was taken over: fenced, it must halt). */
    public static NodeRow renew(NodeRow current, NodeEpoch self, long now, long ttl) {
        if (!StoreRules.fenceAdmits(current, self)) {
            return null;
        }
        return new NodeRow(current.nodeId(), current.epoch(), now + ttl, current.takenBy());
    }

    /** Whether the row's holder counts as a live member (announced to agents). */
    public static boolean live(NodeRow row, long now) {
        return row.takenBy() == 0 && row.expiresAt() > now;
    }

    /** Whether {@code taker} may try to take {@code row} over: another node's lease, expired, not taken yet. */
    public static boolean takeable(NodeRow row, int taker, long now) {
        return row.nodeId() != taker && row.takenBy() == 0 && row.expiresAt() < now;
    }

    /**
     * The takeover's compare-and-set: only if the row is still at the epoch the taker saw and still
     * takeable. It bumps the epoch, which fences every write of the dead incarnation from now on
     * (so "no row" for its gtrids means ROLLBACK forever), and names the taker. Of several survivors
     * racing, exactly one sees its compare succeed.
     */
    public static NodeRow takeOver(NodeRow current, int taker, long seenEpoch, long now) {
        if (current == null || current.epoch() != seenEpoch || !takeable(current, taker, now)) {
            return null;
        }
        return new NodeRow(current.nodeId(), current.epoch() + 1, current.expiresAt(), taker);
    }
}
