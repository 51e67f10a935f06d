package dev.xatm.server.admin;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The list's opaque cursor: a transaction's position in the coordinator's arrival order, which never
 * changes, so a page neither repeats nor skips. Opaque on purpose (base64url of a versioned text):
 * clients pass it back unchanged, and the server may change what is inside. Valid within one run of
 * tm-server; after a restart an old cursor still parses but positions start over.
 */
final class ListCursor {
    private static final String VERSION = "v1.";
    private static final Pattern DECODED = Pattern.compile("v1\\.\\d{1,18}");
    private static final int MAX_CHARS = 64;

    private ListCursor() {}

    static String encode(long position) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((VERSION + position).getBytes(StandardCharsets.US_ASCII));
    }

    /** The position to continue before; Long.MAX_VALUE (the first page) for an empty cursor. */
    static long decode(String cursor) {
        if (cursor.isEmpty()) {
            return Long.MAX_VALUE;
        }
        if (cursor.length() <= MAX_CHARS) {
            try {
                String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
                if (DECODED.matcher(text).matches()) {
                    return Long.parseLong(text.substring(VERSION.length()));
                }
            } catch (IllegalArgumentException e) {
                // falls through to the refusal below
            }
        }
        throw ApiException.badRequest("cursor must be empty (first page) or a nextCursor this server returned");
    }
}
