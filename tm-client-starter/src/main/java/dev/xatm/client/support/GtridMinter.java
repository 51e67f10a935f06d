package dev.xatm.client.support;

import dev.xatm.client.TmUsageException;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.GtridOwner;
import dev.xatm.protocol.TmXid;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Mints gtrids {@code <prefix>:<cluster>-<instance tag>.<time>.<counter>} (base 36), at most 64
 * characters of [A-Za-z0-9._:-], without asking anybody (no begin round trip): the instance tag and
 * the counter make it unique.
 *
 * <p>The cluster id ({@link ClusterId}) names the deployment, as the tm-servers told the agent in their
 * Welcome. It is what keeps deployments apart on a shared database server: recovery takes only
 * prepared branches that name its own cluster, and a server refuses to answer for another's. With
 * servers that predate cluster ids the part is left out ({@code <prefix>:<instance tag>...}). The
 * prefix (tm.client.gtrid-prefix) only makes the gtrids easy to pick out by eye.
 *
 * <p>With several tm-servers on a shared store every gtrid also names its owner, the server that alone
 * may decide it ({@link GtridOwner}, {@code ":<node>.<epoch>"} at the end): a connected one, taking
 * turns ({@link ServerRoutes#ownerForNewGtrid}), which spreads the work over the servers. It is never
 * left untagged there, since an untagged gtrid has no owner and any server would presume it aborted.
 * A gtrid that would pass 64 characters is refused (the prefix is too long), not cut. Thread-safe.
 */
public final class GtridMinter {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,24}");
    /** TmXid's bound on a gtrid, and the store's xid column. */
    static final int MAX_GTRID_LENGTH = TmXid.MAX_ID_LENGTH;

    private final String prefix;
    private final String instanceTag;
    private final AtomicLong counter = new AtomicLong();
    private final ServerRoutes routes;
    private final boolean ownerTags;
    private final ClusterId fixedCluster;
    private final long waitMillis;

    /** Tests: gtrids of one fixed cluster (or of none, when {@code cluster} is null), never an owner tag. */
    public GtridMinter(String prefix, ClusterId cluster, String instanceTag) {
        this(prefix, instanceTag, null, false, cluster, 0);
    }

    /**
     * The cluster id from {@code routes}, and with {@code ownerTags} (the calls are routed by the agent's
     * links) an owner tag from them too, waiting at most {@code waitMillis} for a first Welcome.
     */
    public GtridMinter(String prefix, String instanceTag, ServerRoutes routes, long waitMillis, boolean ownerTags) {
        this(prefix, instanceTag, routes, ownerTags, null, waitMillis);
    }

    private GtridMinter(String prefix, String instanceTag, ServerRoutes routes, boolean ownerTags, ClusterId fixedCluster,
                        long waitMillis) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("tm.client.gtrid-prefix must be 1..24 characters of [A-Za-z0-9._-], got '" + prefix + "'");
        }
        this.prefix = prefix;
        this.instanceTag = instanceTag;
        this.routes = routes;
        this.ownerTags = ownerTags;
        this.fixedCluster = fixedCluster;
        this.waitMillis = waitMillis;
    }

    public String next() {
        Optional<GtridOwner> owner = ownerTags ? routes.ownerForNewGtrid(waitMillis) : Optional.empty();
        // An application's own CoordinatorAccess (no owner tags) may not talk to the agent's servers at all:
        // it gets the cluster id once the agent has heard it, and is not held up waiting for it.
        Optional<ClusterId> cluster = routes != null ? routes.clusterForNewGtrid(ownerTags ? waitMillis : 0)
                : Optional.ofNullable(fixedCluster);
        String head = cluster.map(c -> c.head(prefix)).orElse(prefix + ":");
        String gtrid = head + instanceTag + "." + Long.toString(System.currentTimeMillis(), 36) + "."
                + Long.toString(counter.incrementAndGet(), 36);
        if (owner.isPresent()) {
            gtrid = owner.get().tag(gtrid);
        }
        if (gtrid.length() > MAX_GTRID_LENGTH) {
            throw new TmUsageException("Cannot mint a gtrid" + owner.map(o -> " for " + o).orElse("") + ": '" + gtrid + "' has "
                    + gtrid.length() + " characters, more than the " + MAX_GTRID_LENGTH + " an XA gtrid may have. Shorten"
                    + " tm.client.gtrid-prefix ('" + prefix + "', " + prefix.length() + " characters) by at least "
                    + (gtrid.length() - MAX_GTRID_LENGTH) + " (the same on every service of the deployment).");
        }
        return gtrid;
    }
}
