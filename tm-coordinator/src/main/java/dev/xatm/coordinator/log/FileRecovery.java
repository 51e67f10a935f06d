package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The file log's start-up: locks the directory and reads every segment, oldest first. Damage at the
 * end of the newest segment with nothing intact after it is a torn append from a crash: it is cut off
 * and reported in one WARN line. Damage anywhere else (intact records after it, a later segment, a
 * bad header) cannot come from a crash (see {@link SegmentWriter}'s checkpoint) and stops start-up
 * with {@link LogCorruptedException}, unless the operator set {@value #TRUNCATE_CORRUPT_PROPERTY},
 * which cuts it anyway and logs every dropped record at ERROR.
 *
 * <p>Single use, on the thread that opens the log, before the writer exists.
 */
final class FileRecovery {
    private static final Logger log = LoggerFactory.getLogger(FileTxnLog.class);

    /**
     * What a recovery leaves: the records in order, the lock this process now holds on the directory,
     * and the segment appends continue in (created empty when the directory had none).
     */
    record Recovered(List<LogRecord> records, DirectoryLock lock, long activeSequence) {}

    private final Path dir;
    private final boolean truncateCorrupt;
    private final FileTxnLog.Forcer forcer;

    FileRecovery(Path dir, boolean truncateCorrupt, FileTxnLog.Forcer forcer) {
        this.dir = dir;
        this.truncateCorrupt = truncateCorrupt;
        this.forcer = forcer;
    }

    /**
     * @throws TxnLogException       the directory is unusable or in use by another tm-server
     * @throws LogCorruptedException damage that a crash cannot explain
     */
    Recovered recover() throws IOException {
        prepareDirectory();
        DirectoryLock directoryLock = DirectoryLock.acquire(dir);
        try {
            for (Path unfinished : Segments.listUnfinished(dir)) {
                // a checkpoint interrupted before its rename: the older segments are all still there
                Files.delete(unfinished);
                log.info("transaction log {}: deleted {}, a segment whose creation a crash interrupted", dir, unfinished.getFileName());
            }
            List<Segments.Segment> segments = Segments.list(dir);
            requireContiguous(segments);
            List<LogRecord> records = new ArrayList<>();
            for (int i = 0; i < segments.size(); i++) {
                Segments.Segment segment = segments.get(i);
                Segments.Scan scan = Segments.scan(segment);
                records.addAll(scan.records());
                if (scan.clean()) {
                    continue;
                }
                if (scan.headerBad()) {
                    throw new LogCorruptedException(segment.path(), 0, scan.problem(),
                            "A segment's header is synced before the segment gets its name, so a crash cannot damage it");
                }
                List<Segments.Segment> later = segments.subList(i + 1, segments.size());
                if (later.isEmpty() && scan.intactAfterProblem().isEmpty()) {
                    dropTornTail(segment.path(), scan);
                } else if (truncateCorrupt) {
                    truncateCorrupt(segment.path(), scan, later);
                } else {
                    throw corrupted(segment.path(), scan, later);
                }
            }
            long activeSequence;
            if (segments.isEmpty()) {
                activeSequence = 1;
                Segments.create(dir, activeSequence, List.of(), forcer);
            } else {
                activeSequence = segments.get(segments.size() - 1).sequence();
            }
            return new Recovered(List.copyOf(records), directoryLock, activeSequence);
        } catch (IOException | RuntimeException e) {
            try {
                directoryLock.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void prepareDirectory() {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new TxnLogException("tm-data directory " + dir + " exists but is not a directory");
        }
        if (!Files.exists(dir)) {
            try {
                Files.createDirectories(dir);
                // the new directory's own name must survive a power loss as surely as the segments in it
                Segments.syncDirectory(dir.getParent());
            } catch (IOException e) {
                throw new TxnLogException("cannot create tm-data directory " + dir + ": " + e, e);
            }
        }
        if (!Files.isWritable(dir)) {
            throw new TxnLogException("tm-data directory " + dir + " is not writable by this process (user "
                    + System.getProperty("user.name") + ")");
        }
    }

    /**
     * Checkpoints delete older segments oldest first and stop at the first failure, so the segments
     * on disk are always a run without holes. A hole means someone removed a file; reading across it
     * could show a Decision without the Completed record that followed it.
     */
    private void requireContiguous(List<Segments.Segment> segments) {
        for (int i = 1; i < segments.size(); i++) {
            long previous = segments.get(i - 1).sequence();
            if (segments.get(i).sequence() != previous + 1) {
                throw new TxnLogException("transaction log " + dir + " is missing segment(s) between " + Segments.fileName(previous)
                        + " and " + Segments.fileName(segments.get(i).sequence()) + "; tm-server never leaves such a gap."
                        + " Restore the missing files, or remove the segments before the gap if you know they are obsolete");
            }
        }
    }

    /**
     * Only a torn tail is cut without asking: damage with nothing intact after it, in the newest
     * segment. That is what a crash during an append leaves, and nothing in it was acknowledged (its
     * fsync never returned).
     */
    private void dropTornTail(Path file, Segments.Scan scan) throws IOException {
        truncate(file, scan.validBytes());
        log.warn("transaction log {}: dropped {} bytes at the end of {} from offset {} ({}), the tail of an append torn by a crash",
                dir, scan.fileBytes() - scan.validBytes(), file.getFileName(), scan.validBytes(), scan.problem());
    }

    /**
     * Damage followed by intact records, or in a segment that a later one follows, is not what a crash
     * of ours leaves (appends are sequential and a segment is synced before its successor exists): the
     * disk or someone else changed the file, and the records after the damage may be acknowledged
     * COMMIT decisions. Cutting them would presume those transactions aborted while some branches
     * committed, so start-up stops and the operator decides.
     */
    private LogCorruptedException corrupted(Path file, Segments.Scan scan, List<Segments.Segment> later) {
        String why = (later.isEmpty() ? "It is the newest segment, but " : "It is not the newest segment, and a segment is synced completely"
                + " before its successor is created, so a crash cannot have torn it; moreover ") + whatFollows(scan, later)
                + ", which a torn append does not leave";
        return new LogCorruptedException(file, scan.validBytes(), scan.problem(), why,
                "Restore the file from a copy; or, to cut the segment at this offset and lose what follows in it (each dropped record"
                        + " is then logged at ERROR), start once with " + TRUNCATE_CORRUPT_PROPERTY + "=true. If the host lost power while"
                        + " tm-server was writing, the intact records after the damage may also be an unacknowledged batch whose earlier"
                        + " page never reached the disk; cutting is safe then");
    }

    /** The operator asked for it ({@value #TRUNCATE_CORRUPT_PROPERTY}): cut anyway, and say exactly what is lost. */
    private void truncateCorrupt(Path file, Segments.Scan scan, List<Segments.Segment> later) throws IOException {
        truncate(file, scan.validBytes());
        List<LogRecord> dropped = scan.intactAfterProblem().stream().map(FrameReader.Frame::record).toList();
        List<String> decisions = dropped.stream().filter(r -> r instanceof LogRecord.Decision).map(LogRecord::gtrid).distinct().toList();
        log.error("transaction log {}: {}=true: cut {} at offset {} ({}), dropping {} bytes that held {} intact record(s) after the damage{}."
                        + " COMMIT decisions dropped (their transactions are presumed aborted unless a later record repeats them): {}."
                        + " Dropped records: {}",
                dir, TRUNCATE_CORRUPT_PROPERTY, file.getFileName(), scan.validBytes(), scan.problem(), scan.fileBytes() - scan.validBytes(),
                dropped.size(), later.isEmpty() ? "" : " (" + later.size() + " later segment(s) are kept)",
                decisions.isEmpty() ? "none" : limited(decisions), dropped.isEmpty() ? "none" : limited(dropped.stream().map(FileRecovery::describe).toList()));
    }

    static final String TRUNCATE_CORRUPT_PROPERTY = "tm.server.file.truncate-corrupt";
    /** Bounds a list in a log line or message; the count is always given in full. */
    private static final int LISTED_MAX = 100;

    private static String whatFollows(Segments.Scan scan, List<Segments.Segment> later) {
        List<FrameReader.Frame> after = scan.intactAfterProblem();
        StringBuilder b = new StringBuilder();
        if (!after.isEmpty()) {
            b.append(after.size()).append(" intact record(s) follow the damage in this segment, the first at byte offset ")
                    .append(after.get(0).offset()).append(": ").append(limited(after.stream().map(f -> describe(f.record())).toList()));
        }
        if (!later.isEmpty()) {
            b.append(after.isEmpty() ? "" : ", and ").append(later.size()).append(" later segment(s) follow it (")
                    .append(later.get(0).path().getFileName()).append(later.size() > 1 ? " ..." : "").append(")");
        }
        return b.toString();
    }

    private static String describe(LogRecord r) {
        String kind = r instanceof LogRecord.Decision ? "COMMIT decision" : r.getClass().getSimpleName();
        return kind + " " + r.gtrid();
    }

    private static String limited(List<String> items) {
        return items.size() <= LISTED_MAX ? String.join(", ", items)
                : String.join(", ", items.subList(0, LISTED_MAX)) + " ... (" + (items.size() - LISTED_MAX) + " more)";
    }

    private void truncate(Path file, long validBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(validBytes);
            forcer.force(ch);
        }
    }

}
