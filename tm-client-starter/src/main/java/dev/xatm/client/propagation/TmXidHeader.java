package dev.xatm.client.propagation;

import dev.xatm.protocol.ClusterId;
import dev.xatm.protocol.TmXid;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP header that carries the caller's global transaction to a downstream service:
 *
 * <pre>TM-XID: &lt;gtrid&gt;;exp=&lt;deadline, epoch milliseconds&gt;;tag=&lt;HMAC-SHA256, base64url without padding&gt;</pre>
 *
 * for example {@code TM-XID: xatm:k3f9x2aa-7Qm.12.1;exp=1765432109876;tag=Vd3...} (43 tag characters).
 * The downstream service adds its own branches (its own bquals, its own agent) to that gtrid until the
 * deadline. {@link TmXidSigner} makes and checks the tag; this class only knows the format and which
 * gtrids a service may join. Pure functions, thread-safe.
 */
public final class TmXidHeader {
    public static final String NAME = "TM-XID";
    static final String FORMAT = "<gtrid>;exp=<deadline in epoch milliseconds>;tag=<HMAC-SHA256, base64url>";
    private static final String GTRID_CHARS = TmXid.ID_REGEX;
    private static final Pattern GTRID = Pattern.compile(GTRID_CHARS);
    // A SHA-256 tag is 32 bytes: 43 base64url characters without padding. Up to 15 digits of epoch
    // milliseconds reach the year 33658, and keep the value far from overflowing a long.
    private static final Pattern SIGNED = Pattern.compile("(" + GTRID_CHARS + ");exp=([0-9]{1,15});tag=([A-Za-z0-9_-]{43})");

    private TmXidHeader() {}

    /** A header value in its parts; {@code tag} is the base64url text as it came. */
    record Signed(String gtrid, long expiresAtMillis, String tag) {}

    static String format(String gtrid, long expiresAtMillis, String tag) {
        return gtrid + ";exp=" + expiresAtMillis + ";tag=" + tag;
    }

    /** The value's parts, or null when it is not of the signed form. */
    static Signed parse(String value) {
        Matcher m = value == null ? null : SIGNED.matcher(value);
        if (m == null || !m.matches()) {
            return null;
        }
        return new Signed(m.group(1), Long.parseLong(m.group(2)), m.group(3));
    }

    /**
     * Why {@code value}, which is not of the signed form, is refused. Nothing of the value is echoed:
     * it may hold a tag, and a refusal must not hand that back.
     */
    static String unsignedProblem(String value) {
        if (value != null && GTRID.matcher(value).matches()) {
            return "TM-XID header carries no tag: this service joins only signed headers (" + FORMAT + "), which the "
                    + "xatm starter's HTTP clients send when caller and callee share tm.client.propagation.secret "
                    + "(or the tm.client.auth-token it defaults to)";
        }
        return "Malformed TM-XID header: expected " + FORMAT;
    }

    /**
     * Null when {@code gtrid} is an acceptable gtrid of our cluster, else why it is not (for a 400
     * answer; the gtrid is echoed only in a sanitised, shortened form).
     */
    public static String problem(String gtrid, String gtridPrefix) {
        return problem(gtrid, gtridPrefix, Optional.empty());
    }

    /**
     * The same, and the gtrid must not name another deployment's cluster id than {@code ours} (when
     * known): joining it would put this service's writes under a coordinator that never hears of them.
     */
    public static String problem(String gtrid, String gtridPrefix, Optional<ClusterId> ours) {
        if (gtrid == null || !GTRID.matcher(gtrid).matches()) {
            return "Malformed gtrid " + quote(gtrid) + " in the " + NAME + " header: expected " + TmXid.ID_GRAMMAR;
        }
        if (!gtrid.startsWith(gtridPrefix + ":")) {
            return NAME + " header " + quote(gtrid) + " names a global transaction of another coordinator cluster: this service "
                    + "only joins gtrids starting with '" + gtridPrefix + ":' (tm.client.gtrid-prefix)";
        }
        Optional<ClusterId> named = ClusterId.of(gtrid);
        if (ours.isPresent() && named.isPresent() && !named.get().equals(ours.get())) {
            return NAME + " header " + quote(gtrid) + " names a global transaction of xatm cluster " + named.get() + ", another"
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
