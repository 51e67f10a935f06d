package dev.xatm.client.agent;

import dev.xatm.client.enlist.BqualMinter;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.TmXid;

import java.util.Optional;

/**
 * Which prepared branches that XA RECOVER lists on a resource are this agent's to recover. XA RECOVER
 * shows every prepared branch of the database server (MySQL, MariaDB) or database (PostgreSQL),
 * whoever made it, and another xatm deployment's branches carry our format id too. Taking one of
 * them for ours is an atomicity violation: our coordinator never heard of it, presumes it aborted,
 * and we would roll back a branch the other deployment committed. So a branch is ours only when:
 * <ol>
 *   <li>its gtrid names our deployment's cluster id (the one the servers' Welcome named), and</li>
 *   <li>its bqual's database tag is this resource's database (a branch of another database on the
 *       same server is left to the agents of that database; a bqual without a tag, minted by an
 *       older version, passes on the cluster id alone).</li>
 * </ol>
 * A gtrid that names no cluster id was minted before cluster ids existed; it is taken only with
 * {@code tm.client.recover-legacy-xids} and our gtrid prefix, the old rule, since nothing in it tells
 * one deployment's from another's. Pure and immutable.
 */
record RecoveryFilter(String gtridPrefix, Optional<ClusterId> cluster, boolean recoverLegacy) {

    /** What a listed branch is to us. */
    interface Verdict {
        /** Ours: ask our coordinator for its outcome. */
        record Ours() implements Verdict {}

        /** Another deployment's (its cluster id is named): never touched. */
        record OtherCluster(ClusterId cluster) implements Verdict {}

        /** Our deployment's, but a branch on another database of the same server: that database's agents recover it. */
        record OtherDatabase() implements Verdict {}

        /** Minted before cluster ids with our prefix; left alone unless tm.client.recover-legacy-xids. */
        record Legacy() implements Verdict {}

        /** A gtrid naming no cluster with another prefix: not minted by this deployment. */
        record Foreign() implements Verdict {}
    }

    static final Verdict OURS = new Verdict.Ours();
    static final Verdict OTHER_DATABASE = new Verdict.OtherDatabase();
    static final Verdict LEGACY = new Verdict.Legacy();
    static final Verdict FOREIGN = new Verdict.Foreign();

    /** @param databaseTag the tag of the database XA RECOVER ran on ({@link BqualMinter#databaseTag}) */
    Verdict classify(TmXid xid, String databaseTag) {
        Optional<ClusterId> named = ClusterId.of(xid.gtrid());
        if (named.isEmpty()) {
            if (!xid.gtrid().startsWith(gtridPrefix + ":")) {
                return FOREIGN;
            }
            return recoverLegacy ? OURS : LEGACY;
        }
        // The cluster id decides, whatever the prefix: a prefix changed across a restart must not orphan
        // the deployment's own branches.
        if (cluster.isEmpty() || !cluster.get().equals(named.get())) {
            // Not known yet counts as another's: nothing is recovered before a server has said who we are.
            return new Verdict.OtherCluster(named.get());
        }
        Optional<String> tag = BqualMinter.databaseTagOf(xid.bqual());
        if (tag.isPresent() && !tag.get().equals(databaseTag)) {
            return OTHER_DATABASE;
        }
        return OURS;
    }
}
