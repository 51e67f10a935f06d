package dev.xatm.client.enlist;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

/**
 * Mints branch qualifiers: {@code b<counter>.<instance tag>.<database tag>}, all in base 36. Unique
 * within a global transaction even when several services add branches to it (MySQL requires distinct
 * bquals within one global transaction), and at most 1 + 13 + 1 + 10 + 1 + 4 = 30 characters.
 *
 * <p>The database tag names the database the branch runs on (a hash of its name as the database
 * reports it, so every URL spelling of one database gives the same tag). Why: MySQL and MariaDB list
 * the prepared branches of the whole server in XA RECOVER, whichever database they wrote to; with the
 * tag, recovery on one database never takes a branch of another database on the same server for its
 * own. A bqual minted before the tag existed ({@code b<counter>.<instance tag>}) has none.
 */
public final class BqualMinter {
    private static final int TAG_CHARS = 4;
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

    /** A new bqual for a branch on the database whose tag is {@code databaseTag} ({@link #databaseTag(String)}). */
    public String next(String databaseTag) {
        return "b" + Long.toString(counter.incrementAndGet(), 36) + "." + instanceTag + "." + databaseTag;
    }

    /**
     * The tag of a database by its name ({@code Connection.getCatalog()}: the database, not the server):
     * four base-36 characters of the CRC-32 of the lower-cased name. Two databases of one server could
     * share a tag (one chance in 1.7 million); the cluster id in the gtrid still keeps other deployments'
     * branches apart, so a clash only makes two databases of one deployment see each other's branches,
     * which their common coordinator answers correctly.
     */
    public static String databaseTag(String databaseName) {
        CRC32 crc = new CRC32();
        crc.update((databaseName == null ? "" : databaseName.toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.UTF_8));
        String s = Long.toString(crc.getValue() % 1_679_616L, 36); // 36^4
        return "0".repeat(TAG_CHARS - s.length()) + s;
    }

    /** The database tag a bqual carries, or empty for one minted before tags (or not by us). */
    public static Optional<String> databaseTagOf(String bqual) {
        if (bqual == null) {
            return Optional.empty();
        }
        String[] parts = bqual.split("\\.", -1);
        if (parts.length != 3 || !parts[0].startsWith("b") || !parts[2].matches("[0-9a-z]{" + TAG_CHARS + "}")) {
            return Optional.empty();
        }
        return Optional.of(parts[2]);
    }
}
