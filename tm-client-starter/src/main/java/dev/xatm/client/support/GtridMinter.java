package dev.xatm.client.support;

import dev.xatm.client.TmUsageException;
import dev.xatm.client.coordinator.ServerRoutes;
import dev.xatm.protocol.GtridOwner;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Mints gtrids "{@code <prefix>:<instance tag>.<time>.<counter>}" (base 36), at most 64 characters of
 * [A-Za-z0-9._:-]. The prefix names the coordinator cluster, so recovery can tell our prepared
 * branches from other clusters' on a shared database (SPEC §9, XA-FACTS §5.5); the instance tag
 * and the counter make it unique without asking anybody (SPEC §10: no begin round trip needed).
 *
 * <p>With several tm-servers on a shared store every gtrid also names its owner, the server that alone
 * may decide it ({@link GtridOwner}, {@code ":<node>.<epoch>"} at the end): a connected one, taking
 * turns ({@link ServerRoutes#ownerForNewGtrid}), which spreads the work over the servers. It is never
 * left untagged there, since an untagged gtrid has no owner and any server would presume it aborted.
 * A gtrid that would pass 64 characters is refused (the prefix is too long for the owner tag), not
 * cut. Thread-safe.
 */
public final class GtridMinter {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,24}");
    /** TmXid's bound on a gtrid, and the store's xid column (HA.md §2.2). */
    static final int MAX_GTRID_LENGTH = 64;

    private final String prefix;
    private final String head;
    private final AtomicLong counter = new AtomicLong();
    private final ServerRoutes owners;
    private final long ownerWaitMillis;

    /** Untagged gtrids only: one server, or tests. */
    public GtridMinter(String prefix, String instanceTag) {
        this(prefix, instanceTag, null, 0);
    }

    /** Tagged with an owner from {@code owners}, waiting at most {@code ownerWaitMillis} for one to be connected. */
    public GtridMinter(String prefix, String instanceTag, ServerRoutes owners, long ownerWaitMillis) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("tm.client.gtrid-prefix must be 1..24 characters of [A-Za-z0-9._-], got '" + prefix + "'");
        }
        this.prefix = prefix;
        this.head = prefix + ":" + instanceTag + ".";
        this.owners = owners;
        this.ownerWaitMillis = ownerWaitMillis;
    }

    public String next() {
        String gtrid = head + Long.toString(System.currentTimeMillis(), 36) + "." + Long.toString(counter.incrementAndGet(), 36);
        Optional<GtridOwner> owner = owners == null ? Optional.empty() : owners.ownerForNewGtrid(ownerWaitMillis);
        if (owner.isEmpty()) {
            return gtrid;
        }
        String tagged = owner.get().tag(gtrid);
        if (tagged.length() > MAX_GTRID_LENGTH) {
            throw new TmUsageException("Cannot mint a gtrid for " + owner.get() + ": '" + tagged + "' has " + tagged.length()
                    + " characters, more than the " + MAX_GTRID_LENGTH + " an XA gtrid may have. Shorten tm.client.gtrid-prefix ('"
                    + prefix + "', " + prefix.length() + " characters) by at least " + (tagged.length() - MAX_GTRID_LENGTH)
                    + " (the same on every service of the cluster).");
        }
        return tagged;
    }
}
