package dev.xatm.core.cluster;

/**
 * Rule R2, "only the owner decides", as a pure function: on a shared store a gtrid may be begun,
 * joined, committed or rolled back only by the incarnation its owner tag names; a server of one
 * (a file log, {@code self == null}) decides only untagged gtrids. Drivers ask it at the door, before
 * a client request reaches the core; the decision insert is fenced on the same epoch in the store
 * ({@link StoreRules#fenceAdmits}), so the door is a courtesy and the fence is the safety.
 *
 * <p>Stateless and thread-safe.
 */
public final class OwnerRule {

    /** Where a gtrid stands with respect to the asking server. */
    public enum Standing {
        /** This incarnation decides it (or, untagged, this server of one). */
        OWNER,
        /** Tagged, but this server is not one of a cluster: it cannot decide for a node it does not know. */
        NOT_A_CLUSTER,
        /** Untagged, but this server is one of a cluster: a cluster decides only gtrids minted for one node. */
        UNTAGGED,
        /** Another incarnation of this very node (gone after a restart or a takeover): it never commits here. */
        OTHER_INCARNATION,
        /** Another node's: only that node decides it. */
        ANOTHER_NODE
    }

    private OwnerRule() {}

    /**
     * @param self  this server's incarnation, null for a server of one
     * @param owner the incarnation the gtrid's owner tag names, null for an untagged gtrid
     */
    public static Standing standing(NodeEpoch self, NodeEpoch owner) {
        if (self == null) {
            return owner == null ? Standing.OWNER : Standing.NOT_A_CLUSTER;
        }
        if (owner == null) {
            return Standing.UNTAGGED;
        }
        if (owner.equals(self)) {
            return Standing.OWNER;
        }
        return owner.nodeId() == self.nodeId() ? Standing.OTHER_INCARNATION : Standing.ANOTHER_NODE;
    }

    /** Whether {@code self} decides a gtrid owned by {@code owner}. */
    public static boolean decides(NodeEpoch self, NodeEpoch owner) {
        return standing(self, owner) == Standing.OWNER;
    }
}
