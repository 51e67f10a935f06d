package dev.xatm.core;

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

    private Ids() {}

    // The checks below are loops rather than java.util.regex: they run several times per transaction on
    // the business thread and on the agent's ack path, where a regex match showed up as 5% of the CPU
    // samples of a commit (matcher allocation and backtracking machinery). IdsTest holds them to ID_REGEX.

    public static boolean isValidId(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_ID_BYTES) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!isIdChar(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIdChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-';
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
        return isClusterId(candidate) ? candidate : null;
    }

    /** Resource and agent names: printable ASCII without spaces, bounded so they cannot bloat the log. */
    public static String requireName(String what, String value) {
        if (!isName(value)) {
            throw new IllegalArgumentException(what + " must be 1.." + MAX_NAME_CHARS + " printable ASCII characters without spaces, got " + quote(value));
        }
        return value;
    }

    /** 4..16 characters of [a-z0-9]. */
    private static boolean isClusterId(String s) {
        if (s.length() < 4 || s.length() > 16) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')) {
                return false;
            }
        }
        return true;
    }

    /** 1..MAX_NAME_CHARS characters of printable ASCII without the space (0x21..0x7E). */
    private static boolean isName(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_NAME_CHARS) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
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
