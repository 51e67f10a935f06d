package dev.xatm.core.cluster;

/**
 * A node's lease row as the driver read it from the shared store. {@code expiresAt} and every
 * {@code now} compared with it are the store's clock, in whatever unit the driver uses (the JDBC
 * store: the database's {@code now()}; the simulation: its ticks): a server's own clock never decides
 * whether a lease is live. Immutable.
 *
 * @param takenBy the node that took this one over, or 0 when nobody has since its last claim
 */
public record NodeRow(int nodeId, long epoch, long expiresAt, int takenBy) {

    /** This row's incarnation. */
    public NodeEpoch incarnation() {
        return new NodeEpoch(nodeId, epoch);
    }
}
