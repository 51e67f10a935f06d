package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads the frames of one segment file at any byte offset, and after damage searches forward for the
 * next frame that is intact. Recovery needs both: reading frame after frame finds where the damage
 * starts, and the search decides whether anything intact follows it, which tells a torn tail (only
 * garbage after the damage) from damage in the middle of the log (acknowledged records after it).
 *
 * <p>A frame is intact when its length is in range, it fits in the file, its CRC32C matches and its
 * payload decodes ({@link RecordCodec}). The search tries every byte offset, because damage may have
 * hit the length field, and then no length leads from the bad frame to the next one. A random run of
 * bytes passes all four checks with a probability of about 2^-32 per offset, so a torn tail is not
 * mistaken for records; record content could in principle embed a well-formed frame, which at worst
 * makes recovery refuse a torn tail and ask the operator (never the reverse).
 *
 * <p>Reads through a window of the file, so walking the frames in order and the byte-by-byte search
 * both cost about one {@code read} per window. Not thread-safe; one recovery owns one reader.
 */
final class FrameReader implements AutoCloseable {
    private static final int WINDOW_BYTES = 256 * 1024;

    /** An intact frame: where it starts, its payload size and the record it holds. */
    record Frame(long offset, int payloadBytes, LogRecord record) {
        long end() {
            return offset + Segments.FRAME_HEADER_BYTES + payloadBytes;
        }
    }

    /** What is at one offset: an intact frame, or (exactly one of the two) why there is none. */
    record Read(Frame frame, String problem) {
        boolean intact() {
            return frame != null;
        }
    }

    private final FileChannel channel;
    private final long size;
    private final ByteBuffer window = ByteBuffer.allocate(WINDOW_BYTES);
    private long windowStart;

    private FrameReader(FileChannel channel) throws IOException {
        this.channel = channel;
        this.size = channel.size();
        window.limit(0);
    }

    static FrameReader open(Path file) throws IOException {
        return new FrameReader(FileChannel.open(file, StandardOpenOption.READ));
    }

    long size() {
        return size;
    }

    int intAt(long position) throws IOException {
        return window(position, Integer.BYTES).getInt((int) (position - windowStart));
    }

    long longAt(long position) throws IOException {
        return window(position, Long.BYTES).getLong((int) (position - windowStart));
    }

    /** The frame starting at {@code position}, or why there is no intact one there. */
    Read read(long position) throws IOException {
        long remaining = size - position;
        if (remaining < Segments.FRAME_HEADER_BYTES) {
            return new Read(null, "frame header cut short: " + remaining + " bytes left");
        }
        int length = intAt(position);
        int crc = intAt(position + Integer.BYTES);
        // length 0 is never written (a payload has at least its type byte); it is also what a
        // zero-filled tail looks like, whose CRC32C of nothing would be 0 and match
        if (length <= 0 || length > RecordCodec.PAYLOAD_BYTES_MAX) {
            return new Read(null, "frame length " + Integer.toUnsignedString(length) + " out of range 1.." + RecordCodec.PAYLOAD_BYTES_MAX);
        }
        if (remaining - Segments.FRAME_HEADER_BYTES < length) {
            return new Read(null, "frame of " + length + " payload bytes cut short: " + (remaining - Segments.FRAME_HEADER_BYTES) + " left");
        }
        byte[] payload = bytes(position + Segments.FRAME_HEADER_BYTES, length);
        if (RecordCodec.crc32c(payload) != crc) {
            return new Read(null, "CRC32C mismatch");
        }
        try {
            return new Read(new Frame(position, length, RecordCodec.decode(payload)), null);
        } catch (RecordCodec.BadRecordException e) {
            return new Read(null, "CRC matches but the payload does not decode: " + e.getMessage());
        }
    }

    /** The first intact frame that starts at {@code from} or later, or null when none does. */
    Frame nextIntact(long from) throws IOException {
        for (long p = Math.max(from, Segments.HEADER_BYTES); p + Segments.FRAME_HEADER_BYTES < size; p++) {
            // cheap test first: most offsets fail on the length alone, before any CRC is computed
            int length = intAt(p);
            if (length <= 0 || length > RecordCodec.PAYLOAD_BYTES_MAX || length > size - p - Segments.FRAME_HEADER_BYTES) {
                continue;
            }
            Read read = read(p);
            if (read.intact()) {
                return read.frame();
            }
        }
        return null;
    }

    /** A buffer holding {@code [position, position + length)}, positioned by absolute index from {@code windowStart}. */
    private ByteBuffer window(long position, int length) throws IOException {
        if (position >= windowStart && position + length <= windowStart + window.limit()) {
            return window;
        }
        window.clear();
        windowStart = position;
        while (window.hasRemaining()) {
            int n = channel.read(window, windowStart + window.position());
            if (n < 0) {
                break;
            }
        }
        window.flip();
        if (window.limit() < length) {
            throw new EOFException("reading " + length + " bytes at offset " + position + " of a " + size + "-byte segment");
        }
        return window;
    }

    private byte[] bytes(long position, int length) throws IOException {
        byte[] out = new byte[length];
        if (length <= WINDOW_BYTES) {
            window(position, length).get((int) (position - windowStart), out);
            return out;
        }
        ByteBuffer direct = ByteBuffer.wrap(out);
        while (direct.hasRemaining()) {
            if (channel.read(direct, position + direct.position()) < 0) {
                throw new EOFException("reading " + length + " bytes at offset " + position + " of a " + size + "-byte segment");
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
