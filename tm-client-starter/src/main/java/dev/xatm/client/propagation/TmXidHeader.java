package dev.xatm.client.propagation;

import dev.xatm.protocol.ClusterId;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The HTTP header that carries the caller's global transaction to a downstream service:
 * {@code TM-XID: <gtrid>}. The downstream service adds its own branches (its own bquals, its own
 * agent) to that gtrid.
 */
public final class TmXidHeader {
    public static final String NAME = "TM-XID";
    private static final Pattern GTRID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private TmXidHeader() {}

    /**
     * Null when {@code value} is an acceptable gtrid of our cluster, else why it is not (for a 400
     * answer; the value itself is echoed only in a sanitised, shortened form).
     */
    public static String problem(String value, String gtridPrefix) {
        return problem(value, gtridPrefix, Optional.empty());
    }

    /**
     * The same, and the gtrid must not name another deployment's cluster id than {@code ours} (when
     * known): joining it would put this service's writes under a coordinator that never hears of them.
     */
    public static String problem(String value, String gtridPrefix, Optional<ClusterId> ours) {
        if (value == null || !GTRID.matcher(value).matches()) {
            return "Malformed " + NAME + " header " + quote(value) + ": expected a gtrid of 1..64 characters of [A-Za-z0-9._:-]";
        }
        if (!value.startsWith(gtridPrefix + ":")) {
            return NAME + " header " + quote(value) + " names a global transaction of another coordinator cluster: this service "
                    + "only joins gtrids starting with '" + gtridPrefix + ":' (tm.client.gtrid-prefix)";
        }
        Optional<ClusterId> named = ClusterId.of(value);
        if (ours.isPresent() && named.isPresent() && !named.get().equals(ours.get())) {
            return NAME + " header " + quote(value) + " names a global transaction of xatm cluster " + named.get() + ", another"
                    + " deployment: this service belongs to cluster " + ours.get() + " (tm.client.server-address) and joins only its gtrids";
        }
        return null;
    }

    static String quote(String s) {
        if (s == null) {
            return "(missing)";
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return '"' + cut.replaceAll("[^\\x20-\\x7E]", "?").replace("\"", "'") + '"';
    }
}
