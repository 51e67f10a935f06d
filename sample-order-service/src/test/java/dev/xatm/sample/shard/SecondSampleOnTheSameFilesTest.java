package dev.xatm.sample.shard;

import dev.xatm.sample.SampleOrderServiceApplication;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Two samples on the same H2 files: the first runs (as a process of its own, since H2 locks a file
 * database per process), the second, started in this JVM, stops at once with one clear report
 * naming the shard, its database and what to do, and no stack trace.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecondSampleOnTheSameFilesTest {
    @TempDir
    Path dir;
    Process first;

    @AfterEach
    void stopTheFirst() throws Exception {
        if (first != null) {
            first.destroy();
            first.waitFor();
        }
    }

    @Test
    void aSecondSampleOnHeldFilesFailsWithOneClearLine(CapturedOutput output) throws Exception {
        String shard0 = dir.resolve("sample-data/shard0").toString();
        List<String> settings = List.of("--tm.client.enabled=false", "--server.port=0", "--spring.main.banner-mode=off",
                "--sample.shard0.url=jdbc:h2:file:" + shard0 + ";DB_CLOSE_ON_EXIT=FALSE",
                "--sample.shard1.url=jdbc:h2:file:" + dir.resolve("sample-data/shard1") + ";DB_CLOSE_ON_EXIT=FALSE",
                "--sample.products=4");
        Path firstLog = dir.resolve("first.log");
        first = startFirst(settings, firstLog);
        await("the first sample has started").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
            String log = Files.readString(firstLog);
            if (!first.isAlive()) {
                throw new AssertionError("the first sample exited:\n" + log);
            }
            return log.contains("Started SampleOrderServiceApplication");
        });

        long started = System.nanoTime();
        Throwable failure = catchThrowable(() -> new SpringApplicationBuilder(SampleOrderServiceApplication.class)
                .run(settings.toArray(String[]::new)).close());
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(failure).isNotNull();
        ShardInUseException inUse = findCause(failure, ShardInUseException.class);
        assertThat(inUse).as("cause of %s", failure).isNotNull();
        assertThat(inUse.getMessage()).isEqualTo("shard 0's H2 database " + shard0 + " is in use by another process (H2 file lock); "
                + "stop the other sample or set sample.shard0.url");
        assertThat(output.getOut() + output.getErr())
                .contains("APPLICATION FAILED TO START")
                .contains(inUse.getMessage())
                .contains("Stop the other sample-order-service")
                .doesNotContain("Application run failed")              // Spring Boot's stack-trace report
                .doesNotContain("Exception during pool initialization"); // HikariCP's
        assertThat(took).as("fails at once, without the pool's retries").isLessThan(Duration.ofSeconds(8));
        assertThat(first.isAlive()).as("the first sample is left alone").isTrue();
    }

    private static Process startFirst(List<String> settings, Path log) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                SampleOrderServiceApplication.class.getName()));
        command.addAll(settings);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
