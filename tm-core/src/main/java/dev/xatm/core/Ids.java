package dev.xatm.core;

import java.util.regex.Pattern;

/**
 * The grammar of the identifiers that cross the wire and end up inside XA xids: the one place it is
 * written (tm-protocol's TmXid, and through it the client's header and minter, use these constants).
 *
 * <p>gtrid and bqual become the bytes of an XA Xid, which MySQL limits to 64 bytes each, and
 * pgjdbc base64-encodes into a GID under PostgreSQL's 200-byte limit. We keep them
 * printable ASCII so they read the same in logs, {@code XA RECOVER} and {@code pg_prepared_xacts}.
 */
public final class Ids {
    public static final int MAX_ID_BYTES = 64;
    public static final int MAX_NAME_CHARS = 128;
    /** A gtrid or bqual as a regular expression, to match alone or inside a larger text (a header). */
    public static final String ID_REGEX = "[A-Za-z0-9._:-]{1," + MAX_ID_BYTES + "}";
    /** The same grammar in words, for error messages. */
    public static final String ID_GRAMMAR = "1.." + MAX_ID_BYTES + " characters of [A-Za-z0-9._:-]";
    private static final Pattern ID = Pattern.compile(ID_REGEX);
    private static final Pattern NAME = Pattern.compile("[\\x21-\\x7E]{1," + MAX_NAME_CHARS + "}");
    private static final Pattern CLUSTER = Pattern.compile("[a-z0-9]{4,16}");

    private Ids() {}

    public static boolean isValidId(String s) {
        return s != null && ID.matcher(s).matches();
    }

    public static String requireGtrid(String gtrid) {
        if (!isValidId(gtrid)) {
            throw new IllegalArgumentException("gtrid must be " + ID_GRAMMAR + ", got " + quote(gtrid));
        }
        return gtrid;
    }

    public static String requireBqual(String bqual) {
        if (!isValidId(bqual)) {
            throw new IllegalArgumentException("bqual must be " + ID_GRAMMAR + ", got " + quote(bqual));
        }
        return bqual;
    }

    /**
     * The cluster id a gtrid names, or null for one that names none. Clients mint gtrids as
     * {@code <prefix>:<cluster>-<unique>[:<node>.<epoch>]}, where the cluster id is 4..16 characters of
     * [a-z0-9] and the unique part holds no '-'; a gtrid minted before cluster ids has no '-' after its
     * first ':' and names none. (tm-protocol's ClusterId mints and reads the same grammar; a test in
     * tm-coordinator checks that the two agree.)
     */
    public static String clusterOf(String gtrid) {
        if (gtrid == null) {
            return null;
        }
        int colon = gtrid.indexOf(':');
        int dash = colon < 0 ? -1 : gtrid.indexOf('-', colon + 1);
        int nextColon = colon < 0 ? -1 : gtrid.indexOf(':', colon + 1);
        if (dash < 0 || (nextColon >= 0 && dash > nextColon)) {
            return null;
        }
        String candidate = gtrid.substring(colon + 1, dash);
        return CLUSTER.matcher(candidate).matches() ? candidate : null;
    }

    /** Resource and agent names: printable ASCII without spaces, bounded so they cannot bloat the log. */
    public static String requireName(String what, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " must be 1.." + MAX_NAME_CHARS + " printable ASCII characters without spaces, got " + quote(value));
        }
        return value;
    }

    /** Quotes a rejected value for an error message, cut short so a huge input cannot flood a log. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        String cut = s.length() > 80 ? s.substring(0, 80) + "...(" + s.length() + " chars)" : s;
        return '"' + cut.replaceAll("[^\\x20-\\x7E]", "?") + '"';
    }
}
