package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static dev.xatm.coordinator.log.LogTestSupport.liveGtrids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A real process, really killed: a child JVM appends synced decisions and prints each gtrid once
 * its future completed; SIGKILL hits it mid-run (often mid-write, and with 4 KiB segments often
 * mid-checkpoint). The reopened log must hold every gtrid printed so far as a live Decision. Three
 * rounds on the same directory, so recovery also runs on a log that earlier crashes left behind.
 *
 * <p>SIGKILL loses no page cache, so this checks torn appends and interrupted checkpoints, not the
 * fsync itself (GroupCommitTest checks that no future completes before its fsync).
 */
class CrashTest {
    private static final int ROUNDS = 3;

    @TempDir
    Path tmp;

    @Test
    void everyDecisionReportedDurableSurvivesSigkill() throws Exception {
        Path dir = tmp.resolve("data");
        SplittableRandom random = new SplittableRandom(2024);
        List<String> printed = new ArrayList<>();
        for (int round = 1; round <= ROUNDS; round++) {
            int killAfter = random.nextInt(200, 600);
            Path stderr = tmp.resolve("child-stderr-" + round + ".txt");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "-Xmx128m",
                    CrashChild.class.getName(), dir.toString(), String.valueOf(FileTxnLog.Settings.SEGMENT_BYTES_MIN), "4", String.valueOf(round))
                    .redirectError(stderr.toFile())
                    .start();
            StdoutLines lines = new StdoutLines(child.getInputStream());
            lines.start();
            try {
                await().atMost(Duration.ofSeconds(60))
                        .failFast("child exited early, see " + stderr, () -> !child.isAlive())
                        .until(() -> lines.durable().size() >= killAfter);
                if (round == 1) {
                    // another process holds the directory: this one must be refused, naming the owner
                    assertThatThrownBy(() -> new FileTxnLog(dir, LogTestSupport.SMALL_SEGMENTS).open())
                            .isInstanceOf(TxnLogException.class)
                            .hasMessageContaining("is in use by another tm-server (pid " + child.pid() + ")");
                }
            } finally {
                child.destroyForcibly();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            lines.join(10_000);
            assertThat(child.exitValue()).as("killed, not exited (see %s)", stderr).isEqualTo(137);
            List<String> printedThisRound = lines.durable();
            assertThat(printedThisRound).hasSizeGreaterThanOrEqualTo(killAfter);
            printed.addAll(printedThisRound);

            try (LogTestSupport.LogCapture capture = new LogTestSupport.LogCapture();
                 FileTxnLog log = new FileTxnLog(dir, LogTestSupport.SMALL_SEGMENTS)) {
                List<LogRecord> records = log.open();
                Set<String> live = liveGtrids(records);
                System.out.printf("crash round %d: %d durable gtrids printed before SIGKILL (%d in all); reopened: %d records, %d live,"
                                + " %d segment(s), recovery warnings: %s%n",
                        round, printedThisRound.size(), printed.size(), records.size(), live.size(),
                        LogTestSupport.segments(dir).size(), capture.warnings());
                assertThat(live).containsAll(printed);
            }
        }
    }

    /** Reads the child's stdout to EOF, keeping only whole lines (the pipe is closed by the kill). */
    private static final class StdoutLines extends Thread {
        private final InputStream in;
        private final List<String> durable = new ArrayList<>();

        StdoutLines(InputStream in) {
            super("crash-child-stdout");
            this.in = in;
        }

        synchronized List<String> durable() {
            return List.copyOf(durable);
        }

        @Override
        public void run() {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            try (in) {
                int b;
                while ((b = in.read()) != -1) {
                    if (b == '\n') {
                        String s = line.toString(StandardCharsets.US_ASCII);
                        line.reset();
                        if (s.startsWith("DURABLE ")) {
                            synchronized (this) {
                                durable.add(s.substring("DURABLE ".length()));
                            }
                        }
                    } else {
                        line.write(b);
                    }
                }
            } catch (IOException e) {
                // the stream ends with the process
            }
        }
    }
}
