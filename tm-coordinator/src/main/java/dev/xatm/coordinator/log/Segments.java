package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;

import java.io.IOException;
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
     * What reading one segment found. {@code validBytes} is where the last intact frame before any
     * damage ends; when {@code problem} is set, the damage starts there ({@code headerBad}: from byte
     * 0). {@code intactAfterProblem} are the frames beyond the damage that still check out (found by
     * {@link FrameReader#nextIntact}): none for a torn tail, some when the damage sits in the middle.
     */
    record Scan(List<LogRecord> records, long validBytes, long fileBytes, String problem, boolean headerBad,
                List<FrameReader.Frame> intactAfterProblem) {
        boolean clean() {
            return problem == null;
        }

        private static Scan badHeader(long size, String problem) {
            return new Scan(List.of(), 0, size, problem, true, List.of());
        }
    }

    static Scan scan(Segment segment) throws IOException {
        try (FrameReader reader = FrameReader.open(segment.path())) {
            long size = reader.size();
            if (size < HEADER_BYTES) {
                return Scan.badHeader(size, "file of " + size + " bytes is shorter than the " + HEADER_BYTES + "-byte header");
            }
            int magic = reader.intAt(0);
            int version = reader.intAt(4);
            long sequence = reader.longAt(8);
            if (magic != MAGIC) {
                return Scan.badHeader(size, String.format(Locale.ROOT, "bad magic 0x%08X, not a tm-server log segment", magic));
            }
            if (version != FORMAT_VERSION) {
                return Scan.badHeader(size, "format version " + version + ", this tm-server reads version " + FORMAT_VERSION
                        + " (a newer tm-server wrote it?)");
            }
            if (sequence != segment.sequence()) {
                return Scan.badHeader(size, "header says segment " + sequence + " but the file name says " + segment.sequence());
            }
            List<LogRecord> records = new ArrayList<>();
            long position = HEADER_BYTES;
            while (position < size) {
                FrameReader.Read read = reader.read(position);
                if (!read.intact()) {
                    return new Scan(records, position, size, read.problem(), false, intactAfter(reader, position));
                }
                records.add(read.frame().record());
                position = read.frame().end();
            }
            return new Scan(records, position, size, null, false, List.of());
        }
    }

    /**
     * Every intact frame after the damage at {@code damageAt}: search byte by byte for the first one,
     * follow the chain of lengths from there, and search again wherever the chain breaks.
     */
    private static List<FrameReader.Frame> intactAfter(FrameReader reader, long damageAt) throws IOException {
        List<FrameReader.Frame> frames = new ArrayList<>();
        FrameReader.Frame frame = reader.nextIntact(damageAt + 1);
        while (frame != null) {
            frames.add(frame);
            long next = frame.end();
            if (next >= reader.size()) {
                break;
            }
            FrameReader.Read read = reader.read(next);
            frame = read.intact() ? read.frame() : reader.nextIntact(next + 1);
        }
        return frames;
    }
}
