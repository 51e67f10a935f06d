package dev.xatm.core.cluster;

/**
 * One incarnation of a coordinator node on a shared store: the node id and the lease epoch it
 * claimed. A gtrid minted for that incarnation names it in its owner tag, and only it may decide the
 * gtrid. The driver parses the tag (the core knows no gtrid grammar beyond {@code Ids}). Immutable.
 */
public record NodeEpoch(int nodeId, long epoch) {
    public NodeEpoch {
        if (nodeId < 1) {
            throw new IllegalArgumentException("node id must be positive, got " + nodeId);
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be positive, got " + epoch);
        }
    }

    @Override
    public String toString() {
        return "node " + nodeId + " (epoch " + epoch + ")";
    }
}
