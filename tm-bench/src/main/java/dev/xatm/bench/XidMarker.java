package dev.xatm.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Finds this run's prepared branches among everybody's: every variant puts a marker string into
 * its global transaction ids (our gtrid prefix, Narayana's node name, Atomikos' tm_unique_name,
 * the raw XA variant's own ids), so the check never counts another build's branches.
 */
final class XidMarker {
    private XidMarker() {
    }

    /** pgjdbc writes an Xid as {@code formatId_base64(gtrid)_base64(bqual)}. */
    static boolean pgGidContains(String gid, String marker) {
        String[] parts = gid.split("_");
        if (parts.length != 3) {
            return false;
        }
        try {
            return new String(Base64.getDecoder().decode(parts[1]), StandardCharsets.ISO_8859_1).contains(marker);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
