package dev.xatm.protocol;

/**
 * The rule every configured bearer token follows, on both sides of the wire: at least
 * {@value #MIN_LENGTH} characters. A short token can be guessed by an attacker who can reach the port
 * (every refusal costs them one request), and a short token in a sample configuration tends to end up in
 * production. Generated tokens (43 characters of base64url) always pass.
 *
 * <p>Checked once at start-up; a violation is a {@link Violation}, which tm-server and the client
 * starter turn into one clear start-up failure line that names the property and never the value.
 */
public final class TokenRule {
    public static final int MIN_LENGTH = 16;

    private TokenRule() {
    }

    /** Refuses a token shorter than {@value #MIN_LENGTH}; null or empty means unset and passes. */
    public static void requireLongEnough(String property, String value) {
        if (value != null && !value.isEmpty() && value.length() < MIN_LENGTH) {
            throw new Violation(property + " must be at least " + MIN_LENGTH + " characters long (it has " + value.length()
                    + "; value not shown). Use a long random value, e.g. the output of: openssl rand -base64 32");
        }
    }

    /**
     * A configured token breaks the rules. The message names the property and never holds the token,
     * so it is safe for any log.
     */
    public static final class Violation extends IllegalArgumentException {
        public Violation(String message) {
            super(message);
        }
    }
}
