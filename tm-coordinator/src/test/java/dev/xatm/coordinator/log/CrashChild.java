package dev.xatm.coordinator.log;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static dev.xatm.coordinator.log.LogTestSupport.completed;
import static dev.xatm.coordinator.log.LogTestSupport.decision;

/**
 * The process {@link CrashTest} kills. Several threads append synced Decisions that stay live and
 * print {@code DURABLE <gtrid>} only after the append's future completed; in between they append
 * Decision+Completed pairs without sync, so that checkpoints happen all the time and the kill may
 * land in the middle of one. Runs until killed.
 *
 * <p>Args: directory, segmentBytesMax, threads, run (a prefix that keeps gtrids unique across runs).
 */
public final class CrashChild {
    private static final FileOutputStream STDOUT = new FileOutputStream(FileDescriptor.out);

    public static void main(String[] args) throws Exception {
        // Logging goes to stderr, so stdout carries only our lines, each written with one write().
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        Path dir = Path.of(args[0]);
        FileTxnLog.Settings settings = FileTxnLog.Settings.defaults().withSegmentBytesMax(Long.parseLong(args[1]));
        int threads = Integer.parseInt(args[2]);
        String run = args[3];
        FileTxnLog log = new FileTxnLog(dir, settings);
        log.open();
        emit("READY");
        for (int t = 0; t < threads; t++) {
            int thread = t;
            new Thread(() -> run(log, run, thread), "crash-child-" + t).start();
        }
    }

    private static void run(FileTxnLog log, String run, int thread) {
        try {
            for (long i = 0; ; i++) {
                String durable = "k" + run + "-" + thread + "-" + i;
                String churn = "c" + run + "-" + thread + "-" + i;
                log.append(List.of(decision(churn)), false);
                log.append(List.of(decision(durable)), true).join();
                emit("DURABLE " + durable);
                log.append(List.of(completed(churn)), false);
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(3);
        }
    }

    /** One write() per line: a line on the pipe is whole or absent, even when SIGKILL comes. */
    private static synchronized void emit(String line) {
        try {
            STDOUT.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            System.exit(4);
        }
    }
}
