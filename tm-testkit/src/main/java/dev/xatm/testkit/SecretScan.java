package dev.xatm.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Looks for secrets in what a test run wrote: the logs of the processes the integration tests
 * started ({@code target/it-logs}), the in-process servers' log files ({@code target/fuzz-logs}) and
 * the tests' captured output (surefire and failsafe reports). The secrets are the ones the tests
 * used: the database passwords from the {@code TM_TEST_*PASSWORD*} variables and every token or
 * password the test sources configure (a string constant or property value named like a token,
 * password or secret). A hit names the file, the line and the secret's origin, never the secret.
 *
 * <p>Values shorter than {@link #MIN_SECRET_CHARS} are not looked for: they cannot be told apart from
 * ordinary text (the CI database password is "xatm", the project's name), and {@link #skipped} says
 * which.
 */
public final class SecretScan {
    /** Shorter values match ordinary words; tm-server refuses tokens under 16 characters anyway. */
    public static final int MIN_SECRET_CHARS = 8;
    /** The files of a build worth reading: logs and captured test output. */
    private static final Pattern LOG_FILE = Pattern.compile(".*\\.(log|txt|xml|out)");
    /** Files over this are not logs (a heap dump, a database file): skipped. */
    private static final long MAX_FILE_BYTES = 512L * 1024 * 1024;
    /**
     * {@code ADMIN_TOKEN = "..."}, {@code String password = "..."}: a constant named like a secret, set
     * to one whole literal ({@code "embedded-" + unique + "..."} is not one: its first piece would match
     * ordinary names such as "embedded-h2").
     */
    private static final Pattern CONSTANT = Pattern.compile(
            "(?i)\\b\\w*(?:token|password|secret)\\w*\\s*=\\s*\"([^\"\\s]+)\"\\s*[;,)]");
    /** {@code "tm.server.admin-token=..."}, {@code --spring.datasource.password=...}: a property set to a literal. */
    private static final Pattern PROPERTY = Pattern.compile(
            "(?i)[\\w.-]*(?:token|password|secret)=([^\"\\s,;)}+]+)");

    /** One line holding a secret. */
    public record Hit(Path file, int line, String origin) {
        @Override
        public String toString() {
            return file + ":" + line + " holds the secret from " + origin;
        }
    }

    private final Map<String, String> secrets = new LinkedHashMap<>(); // value -> where it came from
    private final Set<String> skipped = new TreeSet<>();

    /** Adds one secret; one too short to scan for is remembered in {@link #skipped} instead. */
    public SecretScan secret(String value, String origin) {
        if (value == null || value.isBlank()) {
            return this;
        }
        if (value.length() < MIN_SECRET_CHARS) {
            skipped.add(origin + " (" + value.length() + " characters)");
        } else {
            secrets.putIfAbsent(value, origin);
        }
        return this;
    }

    /** The values of every environment variable named TM_TEST_*PASSWORD* or TM_TEST_*TOKEN*. */
    public SecretScan fromEnvironment(Map<String, String> environment) {
        environment.forEach((name, value) -> {
            if (name.startsWith("TM_TEST_") && (name.contains("PASSWORD") || name.contains("TOKEN") || name.contains("SECRET"))) {
                secret(value, "environment variable " + name);
            }
        });
        return this;
    }

    /**
     * Every literal a test source under {@code roots} sets a token, password or secret to. Values that
     * look like names rather than secrets (a property name, a path) are left out.
     */
    public SecretScan fromTestSources(List<Path> roots) {
        for (Path root : roots) {
            for (Path file : files(root, p -> p.toString().endsWith(".java"))) {
                String text = read(file);
                for (Pattern pattern : List.of(CONSTANT, PROPERTY)) {
                    Matcher m = pattern.matcher(text);
                    while (m.find()) {
                        String value = m.group(1);
                        if (looksLikeASecret(value)) {
                            secret(value, root.relativize(file).toString().replace('\\', '/') + " (" + m.group().split("=")[0].trim() + ")");
                        }
                    }
                }
            }
        }
        return this;
    }

    /** The lines of the logs and reports under {@code roots} that hold a secret. */
    public List<Hit> scan(List<Path> roots) {
        List<Hit> hits = new ArrayList<>();
        for (Path root : roots) {
            for (Path file : files(root, p -> LOG_FILE.matcher(p.getFileName().toString()).matches())) {
                hits.addAll(scanFile(file));
            }
        }
        return hits;
    }

    List<Hit> scanFile(Path file) {
        List<Hit> hits = new ArrayList<>();
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                return hits;
            }
            // ISO-8859-1 reads any bytes: a log with broken UTF-8 is still scanned, and ASCII secrets still match
            List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            for (int i = 0; i < lines.size(); i++) {
                for (Map.Entry<String, String> s : secrets.entrySet()) {
                    if (lines.get(i).contains(s.getKey())) {
                        hits.add(new Hit(file, i + 1, s.getValue()));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return hits;
    }

    /** How many distinct secrets are looked for. */
    public int secretCount() {
        return secrets.size();
    }

    /** Secrets too short to look for, by origin. */
    public Set<String> skipped() {
        return skipped;
    }

    private static boolean looksLikeASecret(String value) {
        // a property name (tm.server.admin-token), a path, a placeholder (${...}) or a reference is not a value
        return !value.contains(".") && !value.contains("/") && !value.contains("$") && !value.contains("{")
                && !value.contains("<") && !value.contains("%");
    }

    private static List<Path> files(Path root, java.util.function.Predicate<Path> wanted) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).filter(wanted).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
