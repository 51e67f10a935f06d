package dev.xatm.coordinator.transport;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Refusals are logged at most once per client per minute, with the count of those not logged. */
class RefusalLogTest {
    private Instant now = Instant.parse("2025-01-01T00:00:00Z");
    private final List<String> lines = new ArrayList<>();
    private final RefusalLog log = new RefusalLog(new Clock() {
        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }, lines::add);

    @Test
    void aThousandRefusalsOfOneClientInAMinuteMakeOneLineThenOneLineWithTheirCount() {
        for (int i = 0; i < 1000; i++) {
            log.refused("10.0.0.7", "Refused Commit from 10.0.0.7: invalid bearer token");
            now = now.plusMillis(50);
        }
        // 1000 refusals over 50 s: only the first is written
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).startsWith("Refused Commit from 10.0.0.7: invalid bearer token");

        now = now.plus(Duration.ofSeconds(10)); // a minute after the first line
        log.refused("10.0.0.7", "Refused Begin from 10.0.0.7: no authorization header");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).startsWith("Refused Begin from 10.0.0.7: no authorization header")
                .contains("and 999 more refusals of this client in the last minute");
    }

    @Test
    void eachClientHasItsOwnMinute() {
        log.refused("10.0.0.7", "a");
        log.refused("10.0.0.8", "b");
        log.refused("10.0.0.7", "a");
        log.refused("10.0.0.8", "b");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("a ");
        assertThat(lines.get(1)).startsWith("b ");
    }

    @Test
    void justUnderAMinuteIsStillTheSameWindow() {
        log.refused("c", "x");
        now = now.plusMillis(RefusalLog.WINDOW_MILLIS - 1);
        log.refused("c", "x");
        assertThat(lines).hasSize(1);
        now = now.plusMillis(1);
        log.refused("c", "x");
        assertThat(lines).hasSize(2);
        assertThat(lines.get(1)).contains("and 1 more refusals");
    }

    @Test
    void theTableOfClientsIsBounded() {
        for (int i = 0; i < RefusalLog.MAX_CLIENTS * 2; i++) {
            log.refused("client-" + i, "r");
            assertThat(log.trackedClients()).isLessThanOrEqualTo(RefusalLog.MAX_CLIENTS);
        }
        // one line per new client, and the table never grows past its bound (it would be a memory leak for a scan)
        assertThat(lines).hasSize(RefusalLog.MAX_CLIENTS * 2);
    }

    @Test
    void theClientIsTheAddressWithoutThePort() {
        assertThat(RefusalLog.clientOf(new InetSocketAddress("127.0.0.1", 53312))).isEqualTo("127.0.0.1");
        assertThat(RefusalLog.clientOf(null)).isEqualTo("null");
    }
}
