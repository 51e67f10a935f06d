package dev.xatm.coordinator.cluster;

import dev.xatm.core.Ids;
import dev.xatm.core.cluster.NodeEpoch;
import dev.xatm.core.cluster.OwnerRule;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;

import java.util.Optional;

/**
 * Which gtrids this server may decide (docs/ha.md, rule R2): on a shared store only those minted for this
 * very incarnation, whose owner tag names its node and epoch; on a store of one server only untagged
 * ones. The check is made at the door, before anything reaches the state machine, so a server never
 * begins, registers, commits or rolls back a transaction another server (or an earlier incarnation of
 * itself) owns; the insert of the decision row is fenced on the same epoch in the store.
 *
 * <p>Before all that, the deployment: a gtrid that names another cluster id ({@link ClusterId}) is
 * another deployment's, which shares a database server with this one. This server refuses every call
 * about it and presumes nothing: not even the store's rule R4 applies, since that deployment's owner
 * tags name nodes of another store.
 *
 * <p>The rule itself is tm-core's pure {@link OwnerRule}; this class parses the owner tags, adds the
 * deployment check and words the refusals. Immutable, thread-safe.
 */
public final class Ownership {
    private final Optional<GtridOwner> self;
    private final ClusterId clusterId;

    /** Without a cluster id: no gtrid counts as another deployment's (tests). */
    public Ownership(Cluster cluster) {
        this(cluster, null);
    }

    public Ownership(Cluster cluster, ClusterId clusterId) {
        this.self = cluster.self();
        this.clusterId = clusterId;
    }

    /** Whether this incarnation decides {@code gtrid}. */
    public boolean owns(String gtrid) {
        return !foreign(gtrid) && OwnerRule.decides(incarnation(self), incarnation(GtridOwner.of(gtrid)));
    }

    /** The core's name for an owner tag's incarnation; null for none (an untagged gtrid, a server of one). */
    public static NodeEpoch incarnation(Optional<GtridOwner> owner) {
        return owner.map(o -> new NodeEpoch(o.nodeId(), o.epoch())).orElse(null);
    }

    /** Whether {@code gtrid} names another deployment's cluster id. */
    public boolean foreign(String gtrid) {
        return clusterId != null && clusterId.isForeign(gtrid);
    }

    /** Why this server says nothing about another deployment's gtrid; starts with "not mine". */
    public String notMine(String gtrid) {
        return "not mine: gtrid " + Ids.quote(gtrid) + " belongs to xatm cluster " + ClusterId.of(gtrid).map(ClusterId::value).orElse("?")
                + ", another deployment sharing the database server; this server is cluster " + clusterId
                + " and knows nothing of it. Nothing was decided or presumed: leave the branch to its own deployment.";
    }

    /** Whether gtrids of other owners may exist (a shared store). */
    public boolean clustered() {
        return self.isPresent();
    }

    /** Null when this server decides {@code gtrid}; else why not, for a FAILED_PRECONDITION. */
    public String refusal(String gtrid) {
        if (foreign(gtrid)) {
            return notMine(gtrid);
        }
        Optional<GtridOwner> owner = GtridOwner.of(gtrid);
        return switch (OwnerRule.standing(incarnation(self), incarnation(owner))) {
            case OWNER -> null;
            case NOT_A_CLUSTER -> "gtrid " + Ids.quote(gtrid) + " names " + owner.get() + " as its owner, but this server is not one of a"
                    + " cluster (file store): it decides only gtrids without an owner tag; check tm.client.server-address";
            case UNTAGGED -> "gtrid " + Ids.quote(gtrid) + " has no owner tag, but this server is " + self.get() + " of a cluster on a"
                    + " shared store and decides only gtrids minted for it: the client must tag them (tm-client-starter of the"
                    + " same version), nothing was decided";
            case OTHER_INCARNATION -> "gtrid " + Ids.quote(gtrid) + " belongs to " + owner.get() + ", an earlier incarnation of this"
                    + " node, which is gone: the transaction can never commit (this is " + self.get() + "); nothing was decided";
            case ANOTHER_NODE -> "gtrid " + Ids.quote(gtrid) + " belongs to " + owner.get() + ", another server; send it there (this is "
                    + self.get() + "); nothing was decided";
        };
    }
}
