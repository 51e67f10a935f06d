package dev.xatm.client.enlist;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Mints branch qualifiers: "b" + a counter + "." + a tag random per application instance, all in
 * base 36. Unique within a global transaction even when several services add branches to it
 * (MySQL requires distinct bquals, XA-FACTS §5.1), and at most 1 + 13 + 1 + 10 = 25 characters.
 */
public final class BqualMinter {
    private final String instanceTag;
    private final AtomicLong counter = new AtomicLong();

    public BqualMinter(String instanceTag) {
        if (!instanceTag.matches("[a-z0-9]{1,10}")) {
            throw new IllegalArgumentException("instance tag must be 1..10 of [a-z0-9]");
        }
        this.instanceTag = instanceTag;
    }

    /** A fresh random tag for this instance. */
    public static String randomTag() {
        long v = new SecureRandom().nextLong() & Long.MAX_VALUE;
        String s = Long.toString(v, 36);
        return s.length() > 8 ? s.substring(0, 8) : s;
    }

    public String next() {
        return "b" + Long.toString(counter.incrementAndGet(), 36) + "." + instanceTag;
    }
}
