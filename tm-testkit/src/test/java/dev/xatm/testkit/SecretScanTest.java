package dev.xatm.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The log scrub can fail: a planted secret in a log line is found (file and line, never the secret
 * itself), secrets are collected from the environment and from test sources, and values that are
 * names or too short to tell from ordinary text are not looked for.
 */
class SecretScanTest {

    @Test
    void aPlantedSecretInALogLineIsFoundWithoutRepeatingIt(@TempDir Path target) throws Exception {
        Path logs = Files.createDirectories(target.resolve("it-logs"));
        Files.writeString(logs.resolve("tm-server.log"), "12:00 INFO started\n12:01 WARN refused token s3cr3t-admin-token-value!\n");
        Files.writeString(logs.resolve("clean.log"), "nothing to see\n");
        Files.write(logs.resolve("binary.dat"), new byte[] {1, 2, 3});

        SecretScan scan = new SecretScan().secret("s3cr3t-admin-token-value", "a test's admin token");
        List<SecretScan.Hit> hits = scan.scan(List.of(target));

        assertThat(hits).containsExactly(new SecretScan.Hit(logs.resolve("tm-server.log"), 2, "a test's admin token"));
        assertThat(hits.get(0).toString()).contains("tm-server.log:2").doesNotContain("s3cr3t-admin-token-value");
    }

    @Test
    void secretsComeFromTheEnvironmentAndTheTestSources(@TempDir Path dir) throws Exception {
        Path sources = Files.createDirectories(dir.resolve("src/test/java/x"));
        Files.writeString(sources.resolve("SomeIT.java"), String.join("\n",
                "static final String ADMIN_TOKEN = \"admin-token-0123456789abcdef\";",
                "props.put(\"x\", \"--tm.server.auth-token=client-token-0123456789\");",
                "static final String TOKEN_FILE = \"tm.server.admin-token\";",       // a property name, not a value
                "String password = \"${TM_TEST_PG_PASSWORD}\";",                      // a placeholder
                "String token = \"embedded-\" + unique + \"-0123456789abcdef\";"));     // pieces of a value, not one
        Path log = dir.resolve("target/it-logs/a.log");
        Files.createDirectories(log.getParent());
        Files.writeString(log, "a admin-token-0123456789abcdef\nb client-token-0123456789\nc database-password-42\nd xatm\ne embedded-h2\n");

        SecretScan scan = new SecretScan()
                .fromEnvironment(Map.of("TM_TEST_PG_PASSWORD", "database-password-42", "TM_TEST_MYSQL_PASSWORD", "xatm", "HOME", "/root"))
                .fromTestSources(List.of(dir.resolve("src/test/java")));

        assertThat(scan.secretCount()).isEqualTo(3);
        assertThat(scan.skipped()).containsExactly("environment variable TM_TEST_MYSQL_PASSWORD (4 characters)");
        assertThat(scan.scan(List.of(dir.resolve("target"))).stream().map(SecretScan.Hit::line)).containsExactly(1, 2, 3);
    }
}
