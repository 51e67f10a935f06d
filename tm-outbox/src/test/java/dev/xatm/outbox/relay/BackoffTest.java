package dev.xatm.outbox.relay;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The relay's backoff doubles from the initial pause up to the cap, with jitter in [half, all]. */
class BackoffTest {
    @Test
    void doublesWithinJitterAndStopsAtTheCap() {
        Backoff b = new Backoff(100, 1000, new SplittableRandom(7));
        for (int i = 0; i < 200; i++) {
            assertThat(b.delayMillis(1)).isBetween(50L, 100L);
            assertThat(b.delayMillis(2)).isBetween(100L, 200L);
            assertThat(b.delayMillis(4)).isBetween(400L, 800L);
            assertThat(b.delayMillis(5)).isBetween(500L, 1000L);
            assertThat(b.delayMillis(1_000_000)).isBetween(500L, 1000L);
        }
    }

    @Test
    void theSameSeedGivesTheSamePauses() {
        Backoff a = new Backoff(10, 10_000, new SplittableRandom(42));
        Backoff b = new Backoff(10, 10_000, new SplittableRandom(42));
        for (int i = 1; i < 30; i++) {
            assertThat(a.delayMillis(i)).isEqualTo(b.delayMillis(i));
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new Backoff(0, 10, new SplittableRandom())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(10, 5, new SplittableRandom())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(10, 50, new SplittableRandom()).delayMillis(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
