package dev.xatm.coordinator.log;

import java.nio.file.Path;

/**
 * A log segment is damaged somewhere a crash cannot explain: inside a segment that was complete and
 * synced before its successor existed, in the middle of a segment with intact records after the
 * damage, or in a segment header (headers are synced before the file gets its final name). Recovery
 * refuses to go on rather than silently lose a COMMIT decision; the message names the file, the byte
 * offset and what follows the damage, and says what the operator can do.
 */
public class LogCorruptedException extends TxnLogException {
    private final Path file;
    private final long offset;

    /** For damage the truncate-corrupt flag cannot help with (a bad header): the whole file is in doubt. */
    LogCorruptedException(Path file, long offset, String problem, String why) {
        this(file, offset, problem, why, "Restore the file from a copy, or move it away if you accept losing what it holds");
    }

    /** @param remedy what the operator can do, as a sentence */
    LogCorruptedException(Path file, long offset, String problem, String why, String remedy) {
        super("transaction log segment " + file.toAbsolutePath() + " is corrupt at byte offset " + offset + " (" + problem + "). "
                + why + "; refusing to start rather than lose COMMIT decisions. " + remedy);
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
