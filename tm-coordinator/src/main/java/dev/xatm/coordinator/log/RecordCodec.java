package dev.xatm.coordinator.log;

import dev.xatm.core.AckResult;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Turns a {@link LogRecord} into the payload bytes of one log frame and back. Hand-written so the
 * on-disk format is ours to keep stable, not whatever a serialization library does next release.
 *
 * <p>Payload, big-endian (DataOutput):
 * <pre>
 *   u8 type            1 = Decision, 2 = Completed, 3 = PreCommit (3PC), 4 = Aborted (3PC), 5 = Heuristics
 *   Decision:  str gtrid, str name (nullable), u16 branchCount, branchCount x (str bqual, str resourceId, str agentId)
 *   PreCommit: the same fields as Decision
 *   Completed: str gtrid
 *   Aborted:   str gtrid
 *   Heuristics: str gtrid, str name (nullable), u8 decided (2 = ROLLED_BACK, 3 = TIMED_OUT), u16 branchCount,
 *              branchCount x (str bqual, str resourceId, str agentId, u8 result: 3 HEURCOM, 4 HEURRB, 5 HEURMIX)
 *   str = u16 byteLength + UTF-8 bytes; byteLength 0xFFFF means null
 * </pre>
 * Decoding is strict: unknown type, a length past the end, trailing bytes, a string that is not valid
 * UTF-8 or an identifier the core would reject all make the record bad, so a payload that decodes is
 * exactly the encoding of the record it decodes to. A frame whose CRC matched but whose payload does not parse
 * is treated like any other corrupt frame.
 *
 * <p>Stateless and thread-safe.
 */
final class RecordCodec {

    /**
     * Upper bound of one payload. A Decision with the core's default 64 branches is about 25 KiB, so
     * 1 MiB leaves room for raised limits while a garbage length field can never make recovery
     * allocate gigabytes.
     */
    static final int PAYLOAD_BYTES_MAX = 1 << 20;

    private static final int TYPE_DECISION = 1;
    private static final int TYPE_COMPLETED = 2;
    private static final int TYPE_PRE_COMMIT = 3;
    private static final int TYPE_ABORTED = 4;
    private static final int TYPE_HEURISTICS = 5;
    private static final int NULL_STRING = 0xFFFF;
    private static final int STRING_BYTES_MAX = 0xFFFE;
    private static final int BRANCHES_MAX = 0xFFFF;
    /** A branch is three strings of at least one length prefix each. */
    private static final int BRANCH_BYTES_MIN = 3 * 2;

    private RecordCodec() {}

    /** @throws IllegalArgumentException if the record cannot be represented (too large) */
    static byte[] encode(LogRecord record) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (record instanceof LogRecord.Decision d) {
                out.writeByte(TYPE_DECISION);
                writeBranches(out, "Decision", d.gtrid(), d.name(), d.branches());
            } else if (record instanceof LogRecord.PreCommit p) {
                out.writeByte(TYPE_PRE_COMMIT);
                writeBranches(out, "PreCommit", p.gtrid(), p.name(), p.branches());
            } else if (record instanceof LogRecord.Completed c) {
                out.writeByte(TYPE_COMPLETED);
                writeString(out, c.gtrid());
            } else if (record instanceof LogRecord.Aborted a) {
                out.writeByte(TYPE_ABORTED);
                writeString(out, a.gtrid());
            } else if (record instanceof LogRecord.Heuristics h) {
                out.writeByte(TYPE_HEURISTICS);
                writeString(out, h.gtrid());
                writeString(out, h.name());
                out.writeByte(h.decided() == Outcome.TIMED_OUT ? 3 : 2);
                if (h.branches().size() > BRANCHES_MAX) {
                    throw new IllegalArgumentException("Heuristics " + h.gtrid() + " has too many branches");
                }
                out.writeShort(h.branches().size());
                for (LogRecord.BranchHeuristic b : h.branches()) {
                    writeString(out, b.branch().bqual());
                    writeString(out, b.branch().resourceId());
                    writeString(out, b.branch().agentId());
                    out.writeByte(switch (b.result()) {
                        case HEURISTIC_COMMIT -> 3;
                        case HEURISTIC_ROLLBACK -> 4;
                        case HEURISTIC_MIXED -> 5;
                        case HEURISTIC_HAZARD -> 6;
                        default -> throw new IllegalArgumentException("not a heuristic: " + b.result());
                    });
                }
            } else {
                throw new IllegalArgumentException("unknown record type " + record.getClass().getName());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a byte array cannot fail", e);
        }
        if (bytes.size() > PAYLOAD_BYTES_MAX) {
            throw new IllegalArgumentException("record for gtrid " + record.gtrid() + " encodes to " + bytes.size() + " bytes, more than the log's limit of " + PAYLOAD_BYTES_MAX);
        }
        return bytes.toByteArray();
    }

    private static void writeBranches(DataOutputStream out, String type, String gtrid, String name, List<Branch> branches) throws IOException {
        writeString(out, gtrid);
        writeString(out, name);
        if (branches.size() > BRANCHES_MAX) {
            throw new IllegalArgumentException(type + " " + gtrid + " has " + branches.size() + " branches, the log holds at most " + BRANCHES_MAX);
        }
        out.writeShort(branches.size());
        for (Branch b : branches) {
            writeString(out, b.bqual());
            writeString(out, b.resourceId());
            writeString(out, b.agentId());
        }
    }

    private static List<Branch> readBranches(DataInputStream in) throws IOException, BadRecordException {
        int count = in.readUnsignedShort();
        if ((long) count * BRANCH_BYTES_MIN > in.available()) {
            throw new BadRecordException("branch count " + count + " does not fit in the payload");
        }
        List<Branch> branches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            branches.add(new Branch(readString(in), readString(in), readString(in)));
        }
        return branches;
    }

    static LogRecord decode(byte[] payload) throws BadRecordException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        try {
            LogRecord record;
            int type = in.readUnsignedByte();
            switch (type) {
                case TYPE_DECISION -> {
                    String gtrid = readString(in);
                    String name = readString(in);
                    record = new LogRecord.Decision(gtrid, name, readBranches(in));
                }
                case TYPE_PRE_COMMIT -> {
                    String gtrid = readString(in);
                    String name = readString(in);
                    record = new LogRecord.PreCommit(gtrid, name, readBranches(in));
                }
                case TYPE_COMPLETED -> record = new LogRecord.Completed(readString(in));
                case TYPE_ABORTED -> record = new LogRecord.Aborted(readString(in));
                case TYPE_HEURISTICS -> {
                    String gtrid = readString(in);
                    String name = readString(in);
                    Outcome decided = switch (in.readUnsignedByte()) {
                        case 2 -> Outcome.ROLLED_BACK;
                        case 3 -> Outcome.TIMED_OUT;
                        default -> throw new BadRecordException("unknown decided outcome in a Heuristics record");
                    };
                    int count = in.readUnsignedShort();
                    if ((long) count * (BRANCH_BYTES_MIN + 1) > in.available()) {
                        throw new BadRecordException("branch count " + count + " does not fit in the payload");
                    }
                    List<LogRecord.BranchHeuristic> branches = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        Branch b = new Branch(readString(in), readString(in), readString(in));
                        AckResult result = switch (in.readUnsignedByte()) {
                            case 3 -> AckResult.HEURISTIC_COMMIT;
                            case 4 -> AckResult.HEURISTIC_ROLLBACK;
                            case 5 -> AckResult.HEURISTIC_MIXED;
                            case 6 -> AckResult.HEURISTIC_HAZARD;
                            default -> throw new BadRecordException("unknown heuristic result in a Heuristics record");
                        };
                        branches.add(new LogRecord.BranchHeuristic(b, result));
                    }
                    record = new LogRecord.Heuristics(gtrid, name, decided, branches);
                }
                default -> throw new BadRecordException("unknown record type " + type);
            }
            if (in.available() != 0) {
                throw new BadRecordException(in.available() + " unexpected bytes after the record");
            }
            return record;
        } catch (IOException e) {
            // only EOFException is possible from a byte array: a length field pointing past the end
            throw new BadRecordException("payload ends inside a field");
        } catch (IllegalArgumentException | NullPointerException e) {
            // the core's own validation (Ids) rejected a decoded identifier
            throw new BadRecordException("invalid field: " + e.getMessage());
        }
    }

    static int crc32c(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload, 0, payload.length);
        return (int) crc.getValue();
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeShort(NULL_STRING);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > STRING_BYTES_MAX) {
            throw new IllegalArgumentException("string of " + b.length + " UTF-8 bytes is longer than the log's field limit " + STRING_BYTES_MAX);
        }
        out.writeShort(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException, BadRecordException {
        int length = in.readUnsignedShort();
        if (length == NULL_STRING) {
            return null;
        }
        if (length > in.available()) {
            throw new BadRecordException("string length " + length + " runs past the payload");
        }
        byte[] b = new byte[length];
        in.readFully(b);
        try {
            // Strict: new String(bytes, UTF_8) would turn malformed bytes into U+FFFD, a different
            // string than was written, which a checkpoint would then re-encode as if it were the original.
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRecordException("a string field is not valid UTF-8");
        }
    }

    /** A payload that does not decode to a valid record. Checked: recovery must decide what it means. */
    static final class BadRecordException extends Exception {
        BadRecordException(String message) {
            super(message);
        }
    }
}
