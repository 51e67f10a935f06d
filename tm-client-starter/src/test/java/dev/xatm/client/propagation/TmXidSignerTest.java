package dev.xatm.client.propagation;

import dev.xatm.client.context.TxScope;
import dev.xatm.protocol.ClusterId;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TM-XID tag: only a holder of the shared key can make a header the callee joins, only for the
 * gtrid and deadline it signed, and only until that deadline (plus the clock skew allowed); every
 * refusal says why without echoing the tag.
 */
class TmXidSignerTest {
    static final Instant NOW = Instant.parse("2025-12-01T10:00:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final Duration SKEW = Duration.ofSeconds(2);
    static final String GTRID = "xatm:k3f9x2aa-7Qm.12.1";
    static final PropagationKey KEY = PropagationKey.choose("a-shared-secret-of-the-deployment", null, null);

    final TmXidSigner signer = new TmXidSigner(KEY, CLOCK, SKEW);

    TmXidSigner.Verdict check(String header) {
        return signer.check(header, "xatm", Optional.empty());
    }

    static String reason(TmXidSigner.Verdict v) {
        assertThat(v).isInstanceOf(TmXidSigner.Verdict.Refuse.class);
        return ((TmXidSigner.Verdict.Refuse) v).reason();
    }

    static String tagOf(String header) {
        return header.substring(header.indexOf(";tag=") + 5);
    }

    @Test
    void aValidTagJoinsWithTheRemainingDeadlinePlusTheSkew() {
        String header = signer.headerValue(GTRID, NOW.toEpochMilli() + 30_000);

        assertThat(header).matches("xatm:k3f9x2aa-7Qm\\.12\\.1;exp=" + (NOW.toEpochMilli() + 30_000) + ";tag=[A-Za-z0-9_-]{43}");
        assertThat(check(header)).isEqualTo(new TmXidSigner.Verdict.Join(GTRID, 32_000));
    }

    @Test
    void theHeaderOfAScopeCarriesItsDeadline() {
        TxScope scope = new TxScope(GTRID, true, System.nanoTime() + TimeUnit.SECONDS.toNanos(20));

        TmXidSigner.Verdict v = check(signer.headerValue(scope));

        assertThat(v).isInstanceOf(TmXidSigner.Verdict.Join.class);
        assertThat(((TmXidSigner.Verdict.Join) v).remainingMillis()).isBetween(21_000L, 22_000L);
    }

    @Test
    void aScopeWithoutDeadlineIsNotPropagated() {
        assertThatThrownBy(() -> signer.headerValue(new TxScope(GTRID, true, Long.MAX_VALUE)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no deadline");
    }

    @Test
    void aForgedTagIsRefusedWithoutEchoingIt() {
        String forged = GTRID + ";exp=" + (NOW.toEpochMilli() + 30_000) + ";tag=" + "A".repeat(43);

        assertThat(reason(check(forged))).contains("invalid tag").contains(GTRID).doesNotContain("A".repeat(43));
    }

    @Test
    void aHeaderSignedWithAnotherKeyIsRefused() {
        TmXidSigner theirs = new TmXidSigner(PropagationKey.choose("another-deployments-secret", null, null), CLOCK, SKEW);
        String header = theirs.headerValue(GTRID, NOW.toEpochMilli() + 30_000);

        assertThat(reason(check(header))).contains("invalid tag").doesNotContain(tagOf(header));
    }

    @Test
    void theTagCoversTheGtridAndTheDeadline() {
        String header = signer.headerValue(GTRID, NOW.toEpochMilli() + 30_000);
        String tag = tagOf(header);

        String otherGtrid = "xatm:k3f9x2aa-7Qm.13.1;exp=" + (NOW.toEpochMilli() + 30_000) + ";tag=" + tag;
        String laterDeadline = GTRID + ";exp=" + (NOW.toEpochMilli() + 3_600_000) + ";tag=" + tag;
        assertThat(reason(check(otherGtrid))).contains("invalid tag");
        assertThat(reason(check(laterDeadline))).contains("invalid tag");
    }

    @Test
    void anExpiredHeaderIsRefusedOnceTheSkewIsUsedUp() {
        String justPast = signer.headerValue(GTRID, NOW.toEpochMilli() - 1_000);
        String longPast = signer.headerValue(GTRID, NOW.toEpochMilli() - 2_000);

        assertThat(check(justPast)).isEqualTo(new TmXidSigner.Verdict.Join(GTRID, 1_000));
        assertThat(reason(check(longPast))).contains("expired at " + NOW.minusSeconds(2)).contains("2000 ms").doesNotContain(tagOf(longPast));
    }

    @Test
    void aHeaderWithoutTagIsRefused() {
        assertThat(reason(check(GTRID))).startsWith("TM-XID header carries no tag");
        assertThat(reason(check(GTRID + ";exp=" + (NOW.toEpochMilli() + 30_000)))).startsWith("Malformed TM-XID header");
    }

    @Test
    void malformedHeadersAreRefusedWithoutEchoingThem() {
        String valid = signer.headerValue(GTRID, NOW.toEpochMilli() + 30_000);
        for (String bad : new String[] {"", "has space", valid + ";", valid + "A", " " + valid, valid.replace(";exp=", ";exp=-"),
                GTRID + ";exp=1;tag=" + "A".repeat(42), "x".repeat(65) + ";exp=1;tag=" + "A".repeat(43), "a\u0001b"}) {
            assertThat(reason(check(bad))).as(bad).startsWith("Malformed TM-XID header").doesNotContain(tagOf(valid)).doesNotContain("\u0001");
        }
        assertThat(reason(check(null))).startsWith("Malformed TM-XID header");
    }

    @Test
    void anotherClustersGtridIsRefusedEvenWithAValidTag() {
        String ours = "xatm:aaaa1111-x.1.1";
        String theirs = "xatm:bbbb2222-x.1.1";
        TmXidSigner.Verdict v = signer.check(signer.headerValue(theirs, NOW.toEpochMilli() + 30_000), "xatm", ClusterId.of(ours));

        assertThat(reason(v)).contains("another deployment");
        assertThat(reason(check(signer.headerValue("other:abc", NOW.toEpochMilli() + 30_000)))).contains("another coordinator cluster");
    }

    @Test
    void keysAgreeWhenTheSecretsDo() {
        TmXidSigner fromToken = new TmXidSigner(PropagationKey.choose(null, "the-deployments-token", null), CLOCK, SKEW);
        TmXidSigner fromSameSecret = new TmXidSigner(PropagationKey.choose("the-deployments-token", "ignored-token-value", null), CLOCK, SKEW);
        TmXidSigner fromServerToken = new TmXidSigner(PropagationKey.choose(null, null, "the-deployments-token"), CLOCK, SKEW);
        String header = fromToken.headerValue(GTRID, NOW.toEpochMilli() + 30_000);

        assertThat(fromSameSecret.check(header, "xatm", Optional.empty())).isInstanceOf(TmXidSigner.Verdict.Join.class);
        assertThat(fromServerToken.check(header, "xatm", Optional.empty())).isInstanceOf(TmXidSigner.Verdict.Join.class);
        assertThat(new TmXidSigner(PropagationKey.choose(null, "another-token-entirely", null), CLOCK, SKEW)
                .check(header, "xatm", Optional.empty())).isInstanceOf(TmXidSigner.Verdict.Refuse.class);
    }

    @Test
    void withoutSecretOrTokenTheKeyIsRandomPerProcess() {
        PropagationKey a = PropagationKey.choose(null, null, null);
        PropagationKey b = PropagationKey.choose(null, "", " ");

        assertThat(a.processLocal()).isTrue();
        assertThat(b).isSameAs(a);
        assertThat(KEY.processLocal()).isFalse();
    }

    @Test
    void aShortSecretIsRefusedWithoutShowingIt() {
        assertThatThrownBy(() -> PropagationKey.choose("short-secret", "the-deployments-token", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tm.client.propagation.secret must be at least 16 characters")
                .hasMessageNotContaining("short-secret");
    }

    @Test
    void theKeyNeverShowsTheSecret() {
        assertThat(KEY.toString()).isEqualTo("PropagationKey(derived from tm.client.propagation.secret)").doesNotContain("a-shared-secret");
    }
}
