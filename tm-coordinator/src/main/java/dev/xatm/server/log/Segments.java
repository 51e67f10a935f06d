package dev.xatm.server.log;

import dev.xatm.core.LogRecord;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The on-disk layout of the log: segment file names, the segment header, record frames, and the
 * crash-safe way a new segment comes into existence.
 *
 * <p>A segment is {@code txn-<16-digit sequence>.log}:
 * <pre>
 *   header (16 bytes): u32 magic 0x58544C47 ("XTLG"), u32 format version (1), u64 sequence (= the name's)
 *   frames:            u32 payload length, u32 CRC32C of the payload, payload ({@link RecordCodec})
 * </pre>
 * All integers big-endian. Every segment starts with a checkpoint: the Decisions that were live when
 * it was created, so the newest segment alone always holds the whole live set.
 *
 * <p>Stateless; the caller ({@link FileTxnLog}) owns the directory through its lock.
 */
final class Segments {
    static final int MAGIC = 0x58544C47;
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 16;
    static final int FRAME_HEADER_BYTES = 8;
    static final String TMP_SUFFIX = ".tmp";

    private static final Pattern NAME = Pattern.compile("txn-(\\d{16})\\.log");
    private static final Pattern TMP_NAME = Pattern.compile("txn-\\d{16}\\.log\\" + TMP_SUFFIX);
    /** Windows cannot open a directory to fsync it; NTFS journals the rename itself. */
    private static final boolean CAN_SYNC_DIRECTORY = !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

    private Segments() {}

    record Segment(long sequence, Path path) {}

    static String fileName(long sequence) {
        return String.format(Locale.ROOT, "txn-%016d.log", sequence);
    }

    /** The segments in {@code dir}, oldest first. Files of other names (lock, auth token) are not ours. */
    static List<Segment> list(Path dir) throws IOException {
        List<Segment> segments = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p)) {
                    segments.add(new Segment(Long.parseLong(m.group(1)), p));
                }
            }
        }
        segments.sort(Comparator.comparingLong(Segment::sequence));
        return segments;
    }

    /** Half-written segments from a crash during {@link #create}: never renamed, so never part of the log. */
    static List<Path> listUnfinished(Path dir) throws IOException {
        List<Path> tmp = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (TMP_NAME.matcher(p.getFileName().toString()).matches()) {
                    tmp.add(p);
                }
            }
        }
        return tmp;
    }

    static int frameBytes(byte[] payload) {
        return FRAME_HEADER_BYTES + payload.length;
    }

    static void putFrame(ByteBuffer buffer, byte[] payload) {
        buffer.putInt(payload.length);
        buffer.putInt(RecordCodec.crc32c(payload));
        buffer.put(payload);
    }

    /**
     * Creates segment {@code sequence} holding {@code payloads}, so that after a crash at any point it
     * either does not exist or is complete: written under a temporary name, forced, renamed, and the
     * rename made durable by syncing the directory. Only then may the caller delete older segments.
     *
     * @return the new segment's size in bytes
     */
    static long create(Path dir, long sequence, Collection<byte[]> payloads, FileTxnLog.Forcer forcer) throws IOException {
        Path target = dir.resolve(fileName(sequence));
        Path tmp = dir.resolve(fileName(sequence) + TMP_SUFFIX);
        long size = HEADER_BYTES;
        for (byte[] p : payloads) {
            size += frameBytes(p);
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
            buffer.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(sequence);
            for (byte[] p : payloads) {
                if (buffer.remaining() < frameBytes(p)) {
                    writeFully(ch, buffer.flip());
                    buffer.clear();
                    if (buffer.capacity() < frameBytes(p)) {
                        buffer = ByteBuffer.allocate(frameBytes(p));
                    }
                }
                putFrame(buffer, p);
            }
            writeFully(ch, buffer.flip());
            forcer.force(ch);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory(dir);
        return size;
    }

    static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }

    /** Makes creations, renames and deletions in {@code dir} durable (fsync on the directory itself). */
    static void syncDirectory(Path dir) throws IOException {
        if (!CAN_SYNC_DIRECTORY) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * What reading one segment found. {@code validBytes} is where the last intact frame ends; when
     * {@code problem} is set, everything from there on is bad ({@code headerBad}: from byte 0).
     * {@code intactAfterProblem} counts frames that still check out beyond the bad one, a hint that
     * the damage is not a torn append.
     */
    record Scan(List<LogRecord> records, long validBytes, long fileBytes, String problem, boolean headerBad, int intactAfterProblem) {
        boolean clean() {
            return problem == null;
        }
    }

    static Scan scan(Segment segment) throws IOException {
        Path file = segment.path();
        long size = Files.size(file);
        List<LogRecord> records = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 64 * 1024))) {
            if (size < HEADER_BYTES) {
                return new Scan(records, 0, size, "file of " + size + " bytes is shorter than the " + HEADER_BYTES + "-byte header", true, 0);
            }
            int magic = in.readInt();
            int version = in.readInt();
            long sequence = in.readLong();
            if (magic != MAGIC) {
                return new Scan(records, 0, size, String.format(Locale.ROOT, "bad magic 0x%08X, not a tm-server log segment", magic), true, 0);
            }
            if (version != FORMAT_VERSION) {
                return new Scan(records, 0, size, "format version " + version + ", this tm-server reads version " + FORMAT_VERSION
                        + " (a newer tm-server wrote it?)", true, 0);
            }
            if (sequence != segment.sequence()) {
                return new Scan(records, 0, size, "header says segment " + sequence + " but the file name says " + segment.sequence(), true, 0);
            }
            long position = HEADER_BYTES;
            String problem = null;
            long validBytes = position;
            int intactAfter = 0;
            while (position < size) {
                long remaining = size - position;
                if (remaining < FRAME_HEADER_BYTES) {
                    problem = problem != null ? problem : "frame header cut short: " + remaining + " bytes left";
                    break;
                }
                int length = in.readInt();
                int crc = in.readInt();
                // length 0 is never written (a payload has at least its type byte); it is also what a
                // zero-filled tail looks like, whose CRC32C of nothing would be 0 and match
                if (length <= 0 || length > RecordCodec.PAYLOAD_BYTES_MAX) {
                    problem = problem != null ? problem : "frame length " + Integer.toUnsignedString(length) + " out of range 1.." + RecordCodec.PAYLOAD_BYTES_MAX;
                    break;
                }
                if (remaining - FRAME_HEADER_BYTES < length) {
                    problem = problem != null ? problem : "frame of " + length + " payload bytes cut short: " + (remaining - FRAME_HEADER_BYTES) + " left";
                    break;
                }
                byte[] payload = new byte[length];
                in.readFully(payload);
                String bad = null;
                LogRecord record = null;
                if (RecordCodec.crc32c(payload) != crc) {
                    bad = "CRC32C mismatch";
                } else {
                    try {
                        record = RecordCodec.decode(payload);
                    } catch (RecordCodec.BadRecordException e) {
                        bad = "CRC matches but the payload does not decode: " + e.getMessage();
                    }
                }
                if (problem == null) {
                    if (bad == null) {
                        records.add(record);
                        validBytes = position + FRAME_HEADER_BYTES + length;
                    } else {
                        problem = bad;
                    }
                } else if (bad == null) {
                    intactAfter++;
                } else {
                    break;
                }
                position += FRAME_HEADER_BYTES + length;
            }
            return new Scan(records, validBytes, size, problem, false, intactAfter);
        }
    }
}
