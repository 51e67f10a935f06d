package dev.xatm.protocol;

import org.junit.jupiter.api.Test;

import javax.transaction.xa.Xid;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TmXidTest {

    private static Xid foreign(int formatId, String gtrid, String bqual) {
        return new Xid() {
            public int getFormatId() { return formatId; }
            public byte[] getGlobalTransactionId() { return gtrid.getBytes(StandardCharsets.ISO_8859_1); }
            public byte[] getBranchQualifier() { return bqual.getBytes(StandardCharsets.ISO_8859_1); }
        };
    }

    @Test
    void roundTripsThroughAnyXidImplementation() {
        TmXid xid = new TmXid("tm-1:0000000000000042", "b1");
        Xid copy = foreign(xid.getFormatId(), "tm-1:0000000000000042", "b1");

        assertThat(TmXid.parse(copy)).contains(xid);
        assertThat(xid).isEqualTo(copy);
        assertThat(xid.getFormatId()).isEqualTo(0x58544D31);
    }

    @Test
    void acceptsMaximumLengthPartsThatMySqlAllows() {
        String max = "a".repeat(64);
        TmXid xid = new TmXid(max, max);
        assertThat(xid.getGlobalTransactionId()).hasSize(64);
        assertThat(xid.getBranchQualifier()).hasSize(64);
    }

    @Test
    void leavesForeignXidsAlone() {
        assertThat(TmXid.parse(foreign(1, "tm-1:1", "b1"))).isEmpty();
        assertThat(TmXid.parse(foreign(TmXid.FORMAT_ID, "bad gtrid with spaces", "b1"))).isEmpty();
        assertThat(TmXid.parse(foreign(TmXid.FORMAT_ID, "g", "\u00ff"))).isEmpty();
        assertThat(TmXid.parse(null)).isEmpty();
    }

    @Test
    void rejectsMalformedIdsWithAClearMessage() {
        assertThatThrownBy(() -> new TmXid("a".repeat(65), "b")).hasMessageContaining("gtrid");
        assertThatThrownBy(() -> new TmXid("g", "")).hasMessageContaining("bqual");
        assertThatThrownBy(() -> new TmXid(null, "b")).hasMessageContaining("gtrid");
    }
}
