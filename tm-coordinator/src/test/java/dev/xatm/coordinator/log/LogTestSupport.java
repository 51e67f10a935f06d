package dev.xatm.coordinator.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Shared helpers for the log tests: records, segment files, the live set, and captured WARN lines. */
final class LogTestSupport {
    static final FileTxnLog.Settings SMALL_SEGMENTS = FileTxnLog.Settings.defaults().withSegmentBytesMax(FileTxnLog.Settings.SEGMENT_BYTES_MIN);
    static final FileTxnLog.Settings BIG_SEGMENTS = FileTxnLog.Settings.defaults();

    private LogTestSupport() {}

    static LogRecord.Decision decision(String gtrid) {
        return new LogRecord.Decision(gtrid, "order-" + gtrid, List.of(
                new Branch("b1", "orders-db", "agent-1"),
                new Branch("b2", "stock-db", "agent-2")));
    }

    static LogRecord.Completed completed(String gtrid) {
        return new LogRecord.Completed(gtrid);
    }

    static Path segment(Path dir, long sequence) {
        return dir.resolve(Segments.fileName(sequence));
    }

    static List<Path> segments(Path dir) throws IOException {
        return Segments.list(dir).stream().map(Segments.Segment::path).toList();
    }

    /** Total segment size; may run while the writer checkpoints, so a segment may vanish meanwhile. */
    static long segmentBytesOnDisk(Path dir) throws IOException {
        long total = 0;
        for (Path p : segments(dir)) {
            try {
                total += Files.size(p);
            } catch (java.nio.file.NoSuchFileException deletedMeanwhile) {
                // counted as 0: it was gone a moment later anyway
            }
        }
        return total;
    }

    /** Decisions without a later Completed, as the core's restore computes them. */
    static Set<String> liveGtrids(List<LogRecord> records) {
        Map<String, Boolean> live = new LinkedHashMap<>();
        for (LogRecord r : records) {
            if (r instanceof LogRecord.Decision) {
                live.put(r.gtrid(), true);
            } else {
                live.remove(r.gtrid());
            }
        }
        return live.keySet();
    }

    static List<String> gtrids(List<LogRecord> records) {
        return records.stream().map(LogRecord::gtrid).toList();
    }

    /** Start offset of every frame in a segment file (not checking CRCs: for building damage). */
    static List<Long> frameOffsets(Path segment) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segment));
        List<Long> offsets = new java.util.ArrayList<>();
        int position = Segments.HEADER_BYTES;
        while (position + Segments.FRAME_HEADER_BYTES <= b.limit()) {
            offsets.add((long) position);
            position += Segments.FRAME_HEADER_BYTES + b.getInt(position);
        }
        return offsets;
    }

    static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.collect(Collectors.toList())) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    /** Captures what {@link FileTxnLog} logs at WARN and above while open. */
    static final class LogCapture implements AutoCloseable {
        private final Logger logger = (Logger) LoggerFactory.getLogger(FileTxnLog.class);
        private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        LogCapture() {
            appender.start();
            logger.addAppender(appender);
        }

        List<String> warnings() {
            return appender.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }

        List<String> errors() {
            return appender.list.stream()
                    .filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
                    .map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }
}
