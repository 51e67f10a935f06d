package dev.xatm.server.log;

import java.nio.file.Path;

/**
 * A log segment is damaged somewhere a crash cannot explain: inside a segment that was complete and
 * synced before its successor existed, or in a segment header (headers are synced before the file
 * gets its final name). Recovery refuses to go on rather than silently lose a COMMIT decision; the
 * message names the file and byte offset so an operator can inspect or restore it.
 */
public class LogCorruptedException extends TxnLogException {
    private final Path file;
    private final long offset;

    LogCorruptedException(Path file, long offset, String problem, String why) {
        super("transaction log segment " + file.toAbsolutePath() + " is corrupt at byte offset " + offset + " (" + problem + "). "
                + why + "; refusing to start rather than lose COMMIT decisions. Restore the file from a copy,"
                + " or move it away if you accept losing what it holds");
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
