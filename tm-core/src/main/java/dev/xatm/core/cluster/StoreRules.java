package dev.xatm.core.cluster;

/**
 * What the shared store's rows mean, as pure functions: rule R4 ("any server answers for any prepared
 * branch from the store") and the fence of rule R2 (a decision of an incarnation lands only while its
 * node row still carries its epoch). The JDBC store reads the rows with SQL and asks these functions;
 * the simulation's store applies them to its rows.
 *
 * <p>Why "no row and fenced" is ROLLBACK for good: the owner's insert is fenced on its epoch in the
 * same statement, and a takeover's epoch bump waits for a running insert; so once the driver has read
 * an epoch past the gtrid's, every decision that incarnation will ever have is already in the table.
 * The driver must therefore read the node row before the decision row (the reverse order could miss a
 * COMMIT inserted between the two reads and answer ROLLBACK).
 *
 * <p>Stateless and thread-safe.
 */
public final class StoreRules {

    private StoreRules() {}

    /**
     * Rule R4 for one gtrid.
     *
     * @param self     the asking server's incarnation (null for a server of one); its own gtrids are
     *                 {@link Verdict#ASK_OWNER}: its core answers for them, not the store
     * @param owner    the incarnation the gtrid's owner tag names, null for an untagged gtrid
     * @param ownerRow the owner node's row, read first; null when the store has none
     * @param row      the gtrid's decision row, read second; null when there is none
     */
    public static Verdict verdict(NodeEpoch self, NodeEpoch owner, NodeRow ownerRow, DecisionRow row) {
        if (owner != null && owner.equals(self)) {
            return Verdict.ASK_OWNER;
        }
        if (row != null) {
            return switch (row.outcome()) {
                case COMMIT -> Verdict.COMMIT;
                case PRE_COMMIT -> Verdict.ASK_OWNER; // 3PC: its owner (or adopter) drives it to a decision
                case ROLLED_BACK -> Verdict.ROLLBACK;
            };
        }
        if (owner == null) {
            return Verdict.ROLLBACK; // servers of a cluster never decide untagged gtrids
        }
        // No row: an owner whose node moved past the gtrid's epoch (or has no row) can never insert one.
        // An owner still at that epoch may yet decide, and an epoch not reached yet may be a future
        // incarnation's: only the owner can answer.
        return ownerRow == null || ownerRow.epoch() > owner.epoch() ? Verdict.ROLLBACK : Verdict.ASK_OWNER;
    }

    /**
     * The fence of a decision insert (and of a 3PC rollback of a PRE_COMMIT row): it lands only while
     * the writer's node row, read under a share lock in the same statement, still carries the writer's
     * epoch. A zombie of a taken-over incarnation therefore inserts nothing.
     */
    public static boolean fenceAdmits(NodeRow current, NodeEpoch writer) {
        return current != null && current.nodeId() == writer.nodeId() && current.epoch() == writer.epoch();
    }
}
