package dev.xatm.client.propagation;

import dev.xatm.client.context.TxScope;
import dev.xatm.protocol.ClusterId;

import javax.crypto.Mac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Signs the {@code TM-XID} header of outgoing calls and checks it on incoming ones, so that only a
 * holder of the deployment's {@link PropagationKey} can make a service join a global transaction,
 * and only until that transaction's deadline.
 *
 * <p>The tag is HMAC-SHA256 over a version label, the gtrid and the expiry (the caller's deadline in
 * epoch milliseconds, read from the wall clock). Wall clocks of two hosts differ, so a header is
 * accepted, and the joined scope runs, until {@code expiry + maxClockSkew} on the callee's clock:
 * with hosts no further apart than that, the callee never stops before the caller's deadline, and at
 * most twice the skew after it (the coordinator times the transaction out by its own timer anyway;
 * this only bounds how long the callee keeps working for it).
 *
 * <p>Checks run in this order, each with its own message: the form, the gtrid (prefix and cluster,
 * as before signing existed), the tag, the expiry; so "expired" is only ever said of an authentic
 * header. No message contains the tag. Immutable and thread-safe.
 */
public final class TmXidSigner {
    private static final byte[] VERSION = "TM-XID v1\n".getBytes(StandardCharsets.US_ASCII);
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final PropagationKey key;
    private final Clock clock;
    private final Duration maxClockSkew;

    public TmXidSigner(PropagationKey key, Clock clock, Duration maxClockSkew) {
        if (maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("tm.client.propagation.max-clock-skew must not be negative, got " + maxClockSkew);
        }
        this.key = key;
        this.clock = clock;
        this.maxClockSkew = maxClockSkew;
    }

    /** What to do with an incoming header. */
    public sealed interface Verdict {
        /** Join {@code gtrid}; the joined scope's deadline is {@code remainingMillis} from now (> 0). */
        record Join(String gtrid, long remainingMillis) implements Verdict {}

        /** Refuse the request with 400; {@code reason} names neither the key nor the tag. */
        record Refuse(String reason) implements Verdict {}
    }

    /**
     * The header value for a call made in {@code scope}: its gtrid, valid until its deadline.
     *
     * @throws IllegalStateException for a scope without a deadline (only tests make those)
     */
    public String headerValue(TxScope scope) {
        if (!scope.hasDeadline()) {
            throw new IllegalStateException("Global transaction " + scope.gtrid() + " has no deadline, so its TM-XID header would never expire");
        }
        long expiresAt = clock.millis() + TimeUnit.NANOSECONDS.toMillis(scope.remainingNanos());
        return headerValue(scope.gtrid(), expiresAt);
    }

    /** The header value for {@code gtrid}, valid until {@code expiresAtMillis} (epoch milliseconds). */
    public String headerValue(String gtrid, long expiresAtMillis) {
        return TmXidHeader.format(gtrid, expiresAtMillis, encodedTag(gtrid, expiresAtMillis));
    }

    /**
     * Whether a request carrying {@code value} may join its transaction.
     *
     * @param gtridPrefix this service's tm.client.gtrid-prefix
     * @param ours        this service's deployment, when known
     */
    public Verdict check(String value, String gtridPrefix, Optional<ClusterId> ours) {
        TmXidHeader.Signed h = TmXidHeader.parse(value);
        if (h == null) {
            return new Verdict.Refuse(TmXidHeader.unsignedProblem(value));
        }
        String gtridProblem = TmXidHeader.problem(h.gtrid(), gtridPrefix, ours);
        if (gtridProblem != null) {
            return new Verdict.Refuse(gtridProblem);
        }
        // compared as text, in constant time: decoding first would let several spellings of one tag pass
        byte[] presented = h.tag().getBytes(StandardCharsets.US_ASCII);
        byte[] expected = encodedTag(h.gtrid(), h.expiresAtMillis()).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(presented, expected)) {
            return new Verdict.Refuse(TmXidHeader.NAME + " header for " + TmXidHeader.quote(h.gtrid()) + " has an invalid tag: it was not"
                    + " signed with this service's key. Caller and callee must share tm.client.propagation.secret (default: a key"
                    + " derived from tm.client.auth-token)");
        }
        long remaining = h.expiresAtMillis() + maxClockSkew.toMillis() - clock.millis();
        if (remaining <= 0) {
            return new Verdict.Refuse(TmXidHeader.NAME + " header for " + TmXidHeader.quote(h.gtrid()) + " expired at "
                    + Instant.ofEpochMilli(h.expiresAtMillis()) + " (the global transaction's deadline; clock skew allowed: "
                    + maxClockSkew.toMillis() + " ms): the transaction has timed out");
        }
        return new Verdict.Join(h.gtrid(), remaining);
    }

    /** Where the key came from, for a start-up log line; never the key. */
    public PropagationKey key() {
        return key;
    }

    private String encodedTag(String gtrid, long expiresAtMillis) {
        Mac mac = key.newMac();
        mac.update(VERSION);
        mac.update(gtrid.getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) '\n');
        mac.update(Long.toString(expiresAtMillis).getBytes(StandardCharsets.US_ASCII));
        return BASE64URL.encodeToString(mac.doFinal());
    }
}
