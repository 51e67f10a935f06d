package dev.xatm.outbox.store;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Headers survive the text column whatever their characters; no headers is NULL. */
class HeaderCodecTest {
    @Test
    void roundTripsAnyText() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("trace-id", "abc");
        h.put("weird &=%", "v a=l&u%e\nü");
        h.put("empty", "");
        assertThat(HeaderCodec.decode(HeaderCodec.encode(h))).containsExactlyEntriesOf(h);
    }

    @Test
    void noHeadersIsNull() {
        assertThat(HeaderCodec.encode(Map.of())).isNull();
        assertThat(HeaderCodec.decode(null)).isEmpty();
    }

    @Test
    void emptyNamesAreRefused() {
        assertThatThrownBy(() -> HeaderCodec.encode(Map.of("", "x"))).isInstanceOf(IllegalArgumentException.class);
    }
}
