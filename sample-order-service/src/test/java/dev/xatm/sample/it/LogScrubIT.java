package dev.xatm.sample.it;

import dev.xatm.testkit.SecretScan;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No log line of the whole build holds a password or token the tests used. This module builds last
 * and this test runs in its own failsafe execution after the other integration tests (see the pom),
 * so it reads what every module's tests left under target/: the logs of the processes they started
 * (it-logs), of the in-process servers (fuzz-logs), and the tests' captured output (surefire and
 * failsafe reports). The secrets: the TM_TEST_* passwords and every token or password the test
 * sources configure. With a partial build (-pl) it reads what exists.
 */
class LogScrubIT {

    @Test
    void noLogLineOfTheBuildHoldsASecretTheTestsUsed() throws IOException {
        Path repository = Path.of("..").toAbsolutePath().normalize();
        List<Path> modules = modules(repository);
        List<Path> sources = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        for (Path module : modules) {
            sources.add(module.resolve("src/test/java"));
            for (String dir : List.of("it-logs", "fuzz-logs", "surefire-reports", "failsafe-reports")) {
                outputs.add(module.resolve("target").resolve(dir));
            }
        }
        SecretScan scan = new SecretScan().fromEnvironment(System.getenv()).fromTestSources(sources);
        List<SecretScan.Hit> hits = scan.scan(outputs);
        long files = outputs.stream().filter(Files::isDirectory).count();
        System.out.println("log-scrub: " + scan.secretCount() + " secrets looked for in the logs and reports of " + files
                + " directories, " + hits.size() + " hits" + (scan.skipped().isEmpty() ? "" : "; too short to look for: " + scan.skipped()));
        assertThat(scan.secretCount()).as("the test sources configure tokens; none found means the scan is broken").isPositive();
        assertThat(hits).as("log lines holding a secret").isEmpty();
    }

    private static List<Path> modules(Path repository) throws IOException {
        try (Stream<Path> children = Files.list(repository)) {
            return children.filter(p -> Files.isRegularFile(p.resolve("pom.xml"))).sorted().toList();
        }
    }
}
