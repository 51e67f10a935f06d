package dev.xatm.coordinator.log;

import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordCodecTest {

    /** Every record shape survives encode/decode unchanged, including a null and a non-ASCII name. */
    @Test
    void roundTripsEveryRecordShape() throws Exception {
        List<Branch> many = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            many.add(new Branch("b" + i, "db-" + i, "agent-" + (i % 3)));
        }
        List<LogRecord> records = List.of(
                decision("g-1"),
                new LogRecord.Decision("g-2", null, List.of()),
                new LogRecord.Decision("g-3", "bestellung-\u00e4\u00f6\u00fc-\u6f22", many),
                new LogRecord.Completed("g-1"),
                new LogRecord.PreCommit("g-4", "order-g-4", List.of(new Branch("b1", "orders-db", "agent-1"))),
                new LogRecord.PreCommit("g-5", null, many),
                new LogRecord.Aborted("g-4"));
        for (LogRecord r : records) {
            assertThat(RecordCodec.decode(RecordCodec.encode(r))).isEqualTo(r);
        }
    }

    /**
     * A string field that is not valid UTF-8 is a bad record, not a name with U+FFFD in it that a
     * checkpoint would write back as different bytes (found by LogDecoderFuzzTest).
     */
    @Test
    void aStringThatIsNotUtf8IsABadRecord() {
        // Decision, gtrid "g1", name = the single byte 0xFF, no branches
        assertThatThrownBy(() -> RecordCodec.decode(HexFormat.of().parseHex("01" + "0002" + "6731" + "0001" + "ff" + "0000")))
                .isInstanceOf(RecordCodec.BadRecordException.class).hasMessageContaining("UTF-8");
    }

    /** Pins the on-disk bytes of both record types: changing them needs a new format version. */
    @Test
    void encodingIsTheDocumentedFormat() {
        assertThat(HexFormat.of().formatHex(RecordCodec.encode(new LogRecord.Completed("g1"))))
                .isEqualTo("02" + "0002" + "6731");
        assertThat(HexFormat.of().formatHex(RecordCodec.encode(new LogRecord.Decision("g1", null, List.of(new Branch("b", "r", "a"))))))
                .isEqualTo("01" + "0002" + "6731" + "ffff" + "0001" + "000162" + "000172" + "000161");
    }

    /** The 3PC records' bytes: PreCommit is laid out like a Decision (type 3), Aborted like a Completed (type 4). */
    @Test
    void threePhaseRecordsHaveTheDocumentedFormat() throws Exception {
        assertThat(HexFormat.of().formatHex(RecordCodec.encode(new LogRecord.PreCommit("g1", null, List.of(new Branch("b", "r", "a"))))))
                .isEqualTo("03" + "0002" + "6731" + "ffff" + "0001" + "000162" + "000172" + "000161");
        assertThat(HexFormat.of().formatHex(RecordCodec.encode(new LogRecord.Aborted("g1"))))
                .isEqualTo("04" + "0002" + "6731");
        assertThat(RecordCodec.decode(HexFormat.of().parseHex("04" + "0002" + "6731"))).isEqualTo(new LogRecord.Aborted("g1"));
        // A PreCommit and a Decision with the same fields differ only in their type byte, and never decode as each other.
        byte[] decision = RecordCodec.encode(new LogRecord.Decision("g1", "n", List.of(new Branch("b", "r", "a"))));
        byte[] preCommit = RecordCodec.encode(new LogRecord.PreCommit("g1", "n", List.of(new Branch("b", "r", "a"))));
        assertThat(Arrays.copyOfRange(preCommit, 1, preCommit.length)).isEqualTo(Arrays.copyOfRange(decision, 1, decision.length));
        assertThat(RecordCodec.decode(preCommit)).isInstanceOf(LogRecord.PreCommit.class);
    }

    @Test
    void threePhaseRecordsAreDecodedStrictly() {
        byte[] preCommit = RecordCodec.encode(new LogRecord.PreCommit("g-1", "n", List.of(new Branch("b1", "db", "agent-1"))));
        for (int cut = 0; cut < preCommit.length; cut++) {
            byte[] truncated = Arrays.copyOf(preCommit, cut);
            assertThatThrownBy(() -> RecordCodec.decode(truncated)).isInstanceOf(RecordCodec.BadRecordException.class);
        }
        byte[] abortedBytes = RecordCodec.encode(new LogRecord.Aborted("g-1"));
        byte[] aborted = Arrays.copyOf(abortedBytes, abortedBytes.length + 1);
        assertThatThrownBy(() -> RecordCodec.decode(aborted)).hasMessageContaining("unexpected bytes");
        // an identifier the core rejects (a space) makes the record bad
        assertThatThrownBy(() -> RecordCodec.decode(HexFormat.of().parseHex("04" + "0003" + "672031")))
                .isInstanceOf(RecordCodec.BadRecordException.class);
    }

    @Test
    void heuristicsRecordsRoundTripAndAreDecodedStrictly() throws Exception {
        LogRecord.Heuristics h = new LogRecord.Heuristics("g1", "transfer", dev.xatm.core.Outcome.TIMED_OUT, List.of(
                new LogRecord.BranchHeuristic(new Branch("b1", "db-1", "a1"), dev.xatm.core.AckResult.HEURISTIC_COMMIT),
                new LogRecord.BranchHeuristic(new Branch("b2", "db-2", "a2"), dev.xatm.core.AckResult.HEURISTIC_MIXED),
                new LogRecord.BranchHeuristic(new Branch("b3", "db-3", "a3"), dev.xatm.core.AckResult.HEURISTIC_HAZARD)));
        byte[] bytes = RecordCodec.encode(h);
        assertThat(bytes[0]).isEqualTo((byte) 5);
        assertThat(RecordCodec.decode(bytes)).isEqualTo(h);
        for (int cut = 1; cut < bytes.length; cut++) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThatThrownBy(() -> RecordCodec.decode(truncated)).isInstanceOf(RecordCodec.BadRecordException.class);
        }
        byte[] badResult = bytes.clone();
        badResult[badResult.length - 1] = 9;
        assertThatThrownBy(() -> RecordCodec.decode(badResult)).hasMessageContaining("unknown heuristic result");
    }

    @Test
    void rejectsUnknownTypeTrailingBytesAndTruncation() {
        byte[] good = RecordCodec.encode(decision("g-1"));
        byte[] unknownType = good.clone();
        unknownType[0] = 9;
        assertThatThrownBy(() -> RecordCodec.decode(unknownType)).hasMessageContaining("unknown record type 9");

        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> RecordCodec.decode(trailing)).hasMessageContaining("unexpected bytes");

        for (int cut = 0; cut < good.length; cut++) {
            byte[] truncated = Arrays.copyOf(good, cut);
            assertThatThrownBy(() -> RecordCodec.decode(truncated)).isInstanceOf(RecordCodec.BadRecordException.class);
        }
    }

    /** A payload that is well-formed but names an identifier the core would refuse is bad, not accepted. */
    @Test
    void rejectsIdentifiersTheCoreWouldRefuse() {
        byte[] bad = RecordCodec.encode(new LogRecord.Completed("g-1"));
        bad[3] = ' ';
        assertThatThrownBy(() -> RecordCodec.decode(bad))
                .isInstanceOf(RecordCodec.BadRecordException.class)
                .hasMessageContaining("gtrid");
    }

    /** Random bytes either decode or fail with BadRecordException; never another exception that would crash recovery. */
    @Test
    void garbageOnlyEverFailsWithBadRecordException() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] garbage = new byte[random.nextInt(0, 64)];
            for (int j = 0; j < garbage.length; j++) {
                garbage[j] = (byte) random.nextInt(256);
            }
            try {
                RecordCodec.decode(garbage);
            } catch (RecordCodec.BadRecordException expected) {
                // fine: the only way decoding may fail
            }
        }
    }

    @Test
    void refusesToEncodeARecordLargerThanTheLimit() {
        List<Branch> branches = new ArrayList<>();
        String longName = "x".repeat(128);
        for (int i = 0; i < 5000; i++) {
            branches.add(new Branch("b" + i, longName, longName));
        }
        assertThatThrownBy(() -> RecordCodec.encode(new LogRecord.Decision("g-1", null, branches)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("limit of " + RecordCodec.PAYLOAD_BYTES_MAX);
    }
}
