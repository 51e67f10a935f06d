package dev.xatm.coordinator.transport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hash of an agent's instance secret (Hello.instance_secret): a random value the agent process
 * draws once at start. The server keeps only this hash, bound to the agent id while a stream of that
 * agent is alive, so a second process claiming the same agent id (with the shared client token) can
 * neither replace that stream nor register or vote in its name. The secret itself is never stored
 * and never logged.
 */
final class InstanceSecret {
    static final int MIN_CHARS = 16;
    static final int MAX_CHARS = 128;

    private final byte[] hash;

    private InstanceSecret(byte[] hash) {
        this.hash = hash;
    }

    /** The hash of {@code secret}; IllegalArgumentException (naming {@code field}, not the value) if it is malformed. */
    static InstanceSecret of(String field, String secret) {
        if (secret == null || secret.length() < MIN_CHARS || secret.length() > MAX_CHARS
                || !secret.chars().allMatch(c -> c >= 0x21 && c <= 0x7E)) {
            throw new IllegalArgumentException(field + " must be " + MIN_CHARS + ".." + MAX_CHARS
                    + " printable ASCII characters without spaces (the agent draws one at start; an agent that sends"
                    + " none predates agent identity and must be upgraded)");
        }
        return new InstanceSecret(sha256(secret));
    }

    /** Whether {@code secret} is the one this hash was made of; constant time. Any malformed value is not. */
    boolean matches(String secret) {
        return secret != null && MessageDigest.isEqual(hash, sha256(secret));
    }

    boolean sameAs(InstanceSecret other) {
        return MessageDigest.isEqual(hash, other.hash);
    }

    private static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "InstanceSecret[hidden]";
    }
}
