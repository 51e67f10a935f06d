package dev.xatm.coordinator.log;

import dev.xatm.core.AckResult;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.testkit.FuzzTally;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile bytes at the log's decoder: random payloads, valid payloads with bits flipped, cut short or
 * lengthened, and whole segment files damaged by bit flips, truncation, overwritten ranges and
 * appended garbage. Every payload either decodes to a record whose encoding is exactly those bytes,
 * or is refused with {@link RecordCodec.BadRecordException}; every damaged segment scans to the
 * intact records in front of the damage and names the problem (what recovery then turns into a
 * {@link LogCorruptedException} or a cut torn tail). Never another exception, never a record the
 * writer did not write. At least 10,000 cases per property; the counts are printed at the end.
 */
class LogDecoderFuzzTest {
    private static final FuzzTally PAYLOADS = new FuzzTally("log-decoder (payloads)", "outcome");
    private static final FuzzTally SEGMENTS = new FuzzTally("log-decoder (segment frames)", "outcome");

    @AfterContainer
    static void report() {
        System.out.println(PAYLOADS.summary());
        System.out.println(SEGMENTS.summary());
    }

    // ---------------------------------------------------------------- payloads

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void everyPayloadDecodesCanonicallyOrIsABadRecord(@ForAll("payloads") byte[] payload) throws Exception {
        PAYLOADS.run(() -> {
            byte[] copy = payload.clone();
            LogRecord record;
            try {
                record = RecordCodec.decode(copy);
            } catch (RecordCodec.BadRecordException e) {
                assertThat(e.getMessage()).isNotBlank();
                return "bad record";
            }
            // Decoding is strict: one record has one encoding, so nothing unread or reinterpreted hides in a frame.
            assertThat(RecordCodec.encode(record)).as("re-encoding of %s", record).isEqualTo(payload);
            return "decoded " + record.getClass().getSimpleName();
        });
    }

    @Provide
    Arbitrary<byte[]> payloads() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        // A random first byte is almost never a known type: also start random tails with each type.
        Arbitrary<byte[]> typed = Combinators.combine(Arbitraries.integers().between(0, 6), random)
                .as((type, tail) -> prepend((byte) (int) type, tail));
        Arbitrary<byte[]> valid = records().map(RecordCodec::encode);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, random),
                net.jqwik.api.Tuple.of(2, typed),
                net.jqwik.api.Tuple.of(1, valid),
                net.jqwik.api.Tuple.of(5, Combinators.combine(valid, damages()).as(LogDecoderFuzzTest::damage)));
    }

    // ---------------------------------------------------------------- segments

    @Property(tries = 10_000, shrinking = ShrinkingMode.BOUNDED)
    void aDamagedSegmentScansToTheIntactRecordsBeforeTheDamage(@ForAll("segmentRecords") List<LogRecord> written,
                                                               @ForAll("damages") Damage damage) throws Exception {
        SEGMENTS.run(() -> {
            byte[] clean = segmentBytes(7, written);
            byte[] damaged = damage.applyTo(clean, Segments.HEADER_BYTES);
            int firstChanged = firstDifference(clean, damaged);
            Path file = Files.createTempFile("txn-fuzz", ".log");
            try {
                Files.write(file, damaged);
                Segments.Scan scan = Segments.scan(new Segments.Segment(7, file));
                // what the scan returns is what the writer wrote, in order: a prefix of it
                assertThat(scan.records().size()).isLessThanOrEqualTo(written.size());
                assertThat(scan.records()).isEqualTo(written.subList(0, scan.records().size()));
                if (firstChanged < 0) {
                    assertThat(scan.clean()).isTrue();
                    assertThat(scan.records()).isEqualTo(written);
                    return "unchanged";
                }
                // every frame wholly before the first changed byte survives
                assertThat(scan.records().size()).isGreaterThanOrEqualTo(framesEndingBy(written, firstChanged));
                assertThat(scan.validBytes()).isLessThanOrEqualTo(damaged.length);
                if (scan.clean()) {
                    return "clean (" + (scan.records().size() == written.size() ? "all" : "a prefix") + ")";
                }
                assertThat(scan.problem()).isNotBlank();
                return scan.headerBad() ? "bad header" : "problem after " + (scan.records().size() == 0 ? "0" : "some") + " records";
            } finally {
                Files.deleteIfExists(file);
            }
        });
    }

    @Provide
    Arbitrary<List<LogRecord>> segmentRecords() {
        return records().list().ofMaxSize(6);
    }

    // ---------------------------------------------------------------- generators

    /** Every record shape with identifiers the core accepts and names of any Unicode text (or none). */
    private static Arbitrary<LogRecord> records() {
        Arbitrary<String> id = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').withCharRange('0', '9')
                .withChars('.', '_', ':', '-').ofMinLength(1).ofMaxLength(64);
        Arbitrary<String> name = Arbitraries.strings().ofMaxLength(40).injectNull(0.2);
        Arbitrary<String> printable = Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(20);
        Arbitrary<Branch> branch = Combinators.combine(id, printable, printable).as(Branch::new);
        Arbitrary<List<Branch>> branches = branch.list().ofMaxSize(5);
        Arbitrary<AckResult> heuristic = Arbitraries.of(AckResult.HEURISTIC_COMMIT, AckResult.HEURISTIC_ROLLBACK, AckResult.HEURISTIC_MIXED);
        Arbitrary<List<LogRecord.BranchHeuristic>> heuristics = Combinators.combine(branch, heuristic)
                .as(LogRecord.BranchHeuristic::new).list().ofMaxSize(4);
        return Arbitraries.oneOf(
                Combinators.combine(id, name, branches).as(LogRecord.Decision::new),
                Combinators.combine(id, name, branches).as(LogRecord.PreCommit::new),
                id.map(LogRecord.Completed::new),
                id.map(LogRecord.Aborted::new),
                Combinators.combine(id, name, Arbitraries.of(Outcome.ROLLED_BACK, Outcome.TIMED_OUT), heuristics)
                        .as(LogRecord.Heuristics::new));
    }

    /** What a disk, a crash or an attacker does to bytes; positions are fractions, so they land anywhere in any length. */
    sealed interface Damage {
        byte[] applyTo(byte[] bytes, int protectedPrefix);
    }

    /** Flips {@code bits} random bits (seeded by {@code seed}). */
    record BitFlips(int bits, long seed, boolean headerToo) implements Damage {
        public byte[] applyTo(byte[] bytes, int protectedPrefix) {
            byte[] out = bytes.clone();
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            int from = headerToo ? 0 : Math.min(protectedPrefix, out.length);
            if (out.length == from) {
                return out;
            }
            for (int i = 0; i < bits; i++) {
                int at = random.nextInt(from, out.length);
                out[at] ^= (byte) (1 << random.nextInt(8));
            }
            return out;
        }
    }

    /** Cuts the bytes at a fraction of their length, as a torn append does. */
    record Truncation(double at) implements Damage {
        public byte[] applyTo(byte[] bytes, int protectedPrefix) {
            return Arrays.copyOf(bytes, (int) (bytes.length * at));
        }
    }

    /** Overwrites a range with garbage (zeros, 0xFF, or random bytes), as a misdirected write does. */
    record Overwrite(double at, byte[] garbage) implements Damage {
        public byte[] applyTo(byte[] bytes, int protectedPrefix) {
            byte[] out = bytes.clone();
            int start = (int) (out.length * at);
            for (int i = 0; i < garbage.length && start + i < out.length; i++) {
                out[start + i] = garbage[i];
            }
            return out;
        }
    }

    /** Garbage after the end, as a preallocated or zero-filled tail looks. */
    record Append(byte[] garbage) implements Damage {
        public byte[] applyTo(byte[] bytes, int protectedPrefix) {
            byte[] out = Arrays.copyOf(bytes, bytes.length + garbage.length);
            System.arraycopy(garbage, 0, out, bytes.length, garbage.length);
            return out;
        }
    }

    @Provide
    Arbitrary<Damage> damages() {
        Arbitrary<Double> fraction = Arbitraries.doubles().between(0, 1);
        Arbitrary<byte[]> garbage = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(40),
                Arbitraries.integers().between(1, 40).map(n -> new byte[n]),
                Arbitraries.integers().between(1, 40).map(n -> filled(n, (byte) 0xFF)));
        return Arbitraries.oneOf(
                Combinators.combine(Arbitraries.integers().between(1, 4), Arbitraries.longs(), Arbitraries.of(true, false, false, false))
                        .as(BitFlips::new),
                fraction.map(Truncation::new),
                Combinators.combine(fraction, garbage).as(Overwrite::new),
                garbage.map(Append::new));
    }

    private static byte[] damage(byte[] payload, Damage damage) {
        return damage.applyTo(payload, 0);
    }

    // ---------------------------------------------------------------- helpers

    /** A segment as {@link Segments} lays it out: header, then one frame (length, CRC32C, payload) per record. */
    private static byte[] segmentBytes(long sequence, List<LogRecord> records) {
        List<byte[]> payloads = records.stream().map(RecordCodec::encode).toList();
        int size = Segments.HEADER_BYTES + payloads.stream().mapToInt(Segments::frameBytes).sum();
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.putInt(Segments.MAGIC).putInt(Segments.FORMAT_VERSION).putLong(sequence);
        payloads.forEach(p -> Segments.putFrame(buffer, p));
        return buffer.array();
    }

    /** How many of the records' frames end at or before byte {@code offset} of their segment. */
    private static int framesEndingBy(List<LogRecord> records, int offset) {
        long end = Segments.HEADER_BYTES;
        int n = 0;
        for (LogRecord r : records) {
            end += Segments.frameBytes(RecordCodec.encode(r));
            if (end > offset) {
                break;
            }
            n++;
        }
        return n;
    }

    /** The first index where the two differ, counting a length change; -1 when they are equal. */
    private static int firstDifference(byte[] a, byte[] b) {
        return Arrays.mismatch(a, b);
    }

    private static byte[] prepend(byte first, byte[] tail) {
        byte[] out = new byte[tail.length + 1];
        out[0] = first;
        System.arraycopy(tail, 0, out, 1, tail.length);
        return out;
    }

    private static byte[] filled(int n, byte value) {
        byte[] b = new byte[n];
        Arrays.fill(b, value);
        return b;
    }
}
