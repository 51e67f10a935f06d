package dev.xatm.client.support;

import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Mints gtrids "{@code <prefix>:<instance tag>.<time>.<counter>}" (base 36), at most 64 characters of
 * [A-Za-z0-9._:-]. The prefix names the coordinator cluster, so recovery can tell our prepared
 * branches from other clusters' on a shared database (SPEC §9, XA-FACTS §5.5); the instance tag
 * and the counter make it unique without asking anybody (SPEC §10: no begin round trip needed).
 */
public final class GtridMinter {
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,24}");

    private final String head;
    private final AtomicLong counter = new AtomicLong();

    public GtridMinter(String prefix, String instanceTag) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("tm.client.gtrid-prefix must be 1..24 characters of [A-Za-z0-9._-], got '" + prefix + "'");
        }
        this.head = prefix + ":" + instanceTag + ".";
    }

    public String next() {
        return head + Long.toString(System.currentTimeMillis(), 36) + "." + Long.toString(counter.incrementAndGet(), 36);
    }
}
