package dev.xatm.coordinator.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Exclusive ownership of a tm-data directory. Two coordinators appending to one log would interleave
 * frames and each would compact away the other's decisions, so the second one must not start.
 *
 * <p>An OS file lock ({@link FileChannel#tryLock()}) rather than a marker file: the kernel releases it
 * when the process dies, even by SIGKILL, so a crash never leaves a stale lock for an operator to
 * clean up. The file holds the owner's pid, only to make the error message useful.
 */
final class DirectoryLock implements AutoCloseable {
    static final String FILE_NAME = "tm-server.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DirectoryLock acquire(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // another FileTxnLog in this same JVM holds it: the same mistake as a second process
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String owner = readOwner(channel);
            channel.close();
            throw new TxnLogException("tm-data directory " + dir.toAbsolutePath() + " is in use by another tm-server"
                    + (owner.isEmpty() ? "" : " (pid " + owner + ")") + ": it holds the lock on " + file.getFileName()
                    + ". Stop that process, or give this one its own directory (tm.server.file.dir)");
        }
        try {
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return new DirectoryLock(channel, lock);
    }

    private static String readOwner(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            String s = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
            return s.matches("\\d{1,19}") ? s : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
