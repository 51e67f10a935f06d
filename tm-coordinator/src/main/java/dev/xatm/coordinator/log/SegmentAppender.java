package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The file log's on-disk format for tools outside this package: records encoded and framed exactly as
 * {@link FileTxnLog} writes them, appended to the first segment of a new log directory, with no group
 * commit, writer thread, checkpoint or recovery. {@link FileTxnLog#open()} reads the directory back.
 * tm-bench's baseline log (no group commit) is built on it, so the benchmark compares the same bytes.
 *
 * <p>Not thread-safe: the caller serializes {@link #append}, {@link #force()} and {@link #close()}.
 * {@link #encode} is a pure function any thread may call.
 */
public final class SegmentAppender implements Closeable {

    /** Records encoded and framed, ready for {@link #append}; immutable. */
    public static final class Frames {
        private final List<byte[]> payloads;
        private final long bytes;

        private Frames(List<byte[]> payloads, long bytes) {
            this.payloads = payloads;
            this.bytes = bytes;
        }

        /** Bytes these frames take in a segment. */
        public long bytesLong() {
            return bytes;
        }

        List<byte[]> payloads() {
            return payloads;
        }
    }

    private final FileChannel channel;
    private ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

    private SegmentAppender(FileChannel channel) {
        this.channel = channel;
    }

    /**
     * Creates {@code dir} if needed and its first segment (header only, synced and durably named).
     *
     * @throws IllegalStateException {@code dir} already holds a log: this appender only starts new ones
     */
    public static SegmentAppender createFirst(Path dir) throws IOException {
        Files.createDirectories(dir);
        if (!Segments.list(dir).isEmpty()) {
            throw new IllegalStateException(dir + " already holds a log; a SegmentAppender only starts new ones");
        }
        long size = Segments.create(dir, 1, List.of(), FileTxnLog.FSYNC);
        FileChannel channel = FileChannel.open(dir.resolve(Segments.fileName(1)), StandardOpenOption.WRITE);
        channel.position(size);
        return new SegmentAppender(channel);
    }

    /** Encodes {@code records} as {@link RecordCodec} does for the file log, and sizes their frames. */
    public static Frames encode(List<LogRecord> records) {
        List<byte[]> payloads = new ArrayList<>(records.size());
        long bytes = 0;
        for (LogRecord r : records) {
            byte[] payload = RecordCodec.encode(r);
            payloads.add(payload);
            bytes += Segments.frameBytes(payload);
        }
        return new Frames(List.copyOf(payloads), bytes);
    }

    /** Writes the frames at the end of the segment, in one write; durable only after {@link #force()}. */
    public void append(Frames frames) throws IOException {
        if (buffer.capacity() < frames.bytes) {
            buffer = ByteBuffer.allocate(Math.toIntExact(frames.bytes));
        }
        buffer.clear();
        for (byte[] p : frames.payloads) {
            Segments.putFrame(buffer, p);
        }
        Segments.writeFully(channel, buffer.flip());
    }

    /** fsync of the segment's data. */
    public void force() throws IOException {
        channel.force(false);
    }

    /** Forces what was appended, then closes the segment. */
    @Override
    public void close() throws IOException {
        try {
            channel.force(false);
        } finally {
            channel.close();
        }
    }
}
