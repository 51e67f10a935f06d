package dev.xatm.client.propagation;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;

/**
 * The HMAC-SHA256 key that signs and checks {@code TM-XID} headers. Every service of one deployment
 * must hold the same key, so it is derived from a secret they share:
 * {@code tm.client.propagation.secret} when set, else the coordinator's bearer token (which every
 * service of a deployment already has), else, in embedded mode with neither, random bytes made once
 * per process (headers then only work between applications of this JVM).
 *
 * <p>The key is {@code HMAC-SHA256(secret, LABEL)}, not the secret itself: a fixed 256-bit key
 * whatever the secret's length, and one that is useless for anything but this header even when the
 * secret is the bearer token. Because the same derivation applies to both, a service configured with
 * {@code tm.client.propagation.secret} equal to the token interoperates with one that derives it.
 *
 * <p>Neither the secret nor the key is ever logged or returned: {@link #toString()} names only where
 * the key came from. Immutable and thread-safe; {@link #newMac()} gives each caller its own
 * {@link Mac}, which is not thread-safe.
 */
public final class PropagationKey {
    static final String ALGORITHM = "HmacSHA256";
    /** Shortest {@code tm.client.propagation.secret} accepted, as for the bearer tokens. */
    public static final int MIN_SECRET_LENGTH = 16;
    private static final byte[] LABEL = "xatm TM-XID header signing key v1".getBytes(StandardCharsets.US_ASCII);

    private final SecretKeySpec key;
    private final String origin;

    private PropagationKey(byte[] key, String origin) {
        this.key = new SecretKeySpec(key, ALGORITHM);
        this.origin = origin;
    }

    /**
     * Chooses the key as the class comment says.
     *
     * @param secret          tm.client.propagation.secret, or null
     * @param clientAuthToken tm.client.auth-token, or null
     * @param serverAuthToken tm.server.auth-token (embedded mode: the token remote-mode services of the
     *                        same deployment use as their tm.client.auth-token), or null
     * @throws IllegalArgumentException when a secret is set but shorter than {@link #MIN_SECRET_LENGTH}
     */
    public static PropagationKey choose(String secret, String clientAuthToken, String serverAuthToken) {
        if (secret != null) {
            if (secret.strip().length() < MIN_SECRET_LENGTH) {
                // the length only: the value must not reach a log, even a wrong one
                throw new IllegalArgumentException("tm.client.propagation.secret must be at least " + MIN_SECRET_LENGTH
                        + " characters (it keys the HMAC of the TM-XID header); the one set has " + secret.strip().length());
            }
            return derived(secret, "tm.client.propagation.secret");
        }
        if (clientAuthToken != null && !clientAuthToken.isBlank()) {
            return derived(clientAuthToken, "tm.client.auth-token");
        }
        if (serverAuthToken != null && !serverAuthToken.isBlank()) {
            return derived(serverAuthToken, "tm.server.auth-token");
        }
        return PerProcess.KEY;
    }

    private static PropagationKey derived(String secret, String property) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM));
            return new PropagationKey(mac.doFinal(LABEL), "derived from " + property);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM, which every Java SE runtime must provide", e);
        }
    }

    /** Made on first use, once per JVM: every application context of the process shares it. */
    private static final class PerProcess {
        static final PropagationKey KEY;

        static {
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            KEY = new PropagationKey(random, "random, this process only");
        }
    }

    /** True for the per-process random key: headers from other processes cannot carry a valid tag. */
    public boolean processLocal() {
        return this == PerProcess.KEY;
    }

    /** A Mac initialised with this key, for one thread. */
    Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM, which every Java SE runtime must provide", e);
        }
    }

    /** Where the key came from, never the key. */
    public String origin() {
        return origin;
    }

    @Override
    public String toString() {
        return "PropagationKey(" + origin + ")";
    }
}
