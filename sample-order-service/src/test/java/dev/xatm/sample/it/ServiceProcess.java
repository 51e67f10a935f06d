package dev.xatm.sample.it;

import dev.xatm.testkit.Ports;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged sample-order-service jar as a child process, the way tm-testkit's ServerProcess runs
 * tm-server: {@link #kill9()} is a real crash, {@link #restart()} brings the same instance back
 * (same port, same agent id, same shards). Secrets (database passwords, the coordinator token) go
 * in through the environment, not the command line. Output: target/it-logs/{name}.log.
 *
 * <p>Not thread-safe: one test drives one instance.
 */
final class ServiceProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final String name;
    private final Path jar;
    private final Path logFile;
    private final int port;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final Map<String, String> environment;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;

    private ServiceProcess(String name, Map<String, String> extraProperties, Map<String, String> environment) {
        this.name = name;
        this.jar = locateJar();
        this.port = Ports.free();
        this.environment = Map.copyOf(environment);
        Path logDir = Path.of(System.getProperty("tm.it.log-dir", "target/it-logs")).toAbsolutePath();
        try {
            Files.createDirectories(logDir);
            this.logFile = logDir.resolve(name + ".log");
            Files.deleteIfExists(logFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        properties.put("server.port", Integer.toString(port));
        properties.put("server.address", "127.0.0.1");
        properties.putAll(extraProperties);
    }

    /** Starts the service and waits until /actuator/health is UP: both shards migrated and answering, agent connected. */
    static ServiceProcess start(String name, Map<String, String> properties, Map<String, String> environment) {
        ServiceProcess s = new ServiceProcess(name, properties, environment);
        s.startProcess();
        return s;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, and make sure it is gone. */
    void kill9() {
        Process p = process;
        note("kill -9 of pid " + p.pid());
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError(name + " pid " + p.pid() + " still alive 30 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while killing " + name, e);
        }
    }

    /** The same instance again: same port, agent id and shards. */
    void restart() {
        if (isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        note("restart");
        startProcess();
    }

    /** Waits (bounded) until the health endpoint says UP again, e.g. after the coordinator came back. */
    void awaitHealthy(Duration atMost) {
        String[] last = {"no answer"};
        HttpRequest req = HttpRequest.newBuilder(URI.create(baseUrl() + "/actuator/health")).timeout(Duration.ofSeconds(2)).build();
        try {
            Awaitility.await(name + " healthy").atMost(atMost).pollInterval(Duration.ofMillis(200)).until(() -> {
                if (!process.isAlive()) {
                    throw new AssertionError(name + " exited with " + process.exitValue() + "; log " + logFile + ":\n" + tail(60));
                }
                try {
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    last[0] = r.statusCode() + " " + r.body();
                    return r.statusCode() == 200;
                } catch (IOException e) {
                    last[0] = e.toString();
                    return false;
                }
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(name + " not healthy after " + atMost + " (last: " + last[0] + "); log " + logFile + ":\n"
                    + tail(60), e);
        }
    }

    String output() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    private void startProcess() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // small and quick to start: two shared cores run the build, the tests, tm-server and this
        cmd.add("-Xmx384m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-jar");
        cmd.add(jar.toString());
        properties.forEach((k, v) -> cmd.add("--" + k + "=" + v));
        starts++;
        note("start #" + starts + ": java -jar " + jar.getFileName() + " (http " + port + ")");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().putAll(environment);
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + jar, e);
        }
        // a child outlives a test JVM that dies; leave no service behind
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "kill-" + name));
        try {
            awaitHealthy(START_TIMEOUT);
        } catch (AssertionError e) {
            process.destroyForcibly();
            throw e;
        }
    }

    private void note(String line) {
        try {
            Files.writeString(logFile, "==== [it " + Instant.now() + "] " + name + ": " + line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SIGTERM (graceful shutdown), SIGKILL if it hangs. */
    @Override
    public void close() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        note("stop");
        p.destroy();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                note("did not stop within 30 s; kill -9");
                p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    private static Path locateJar() {
        Path jar = Path.of(System.getProperty("tm.it.sample-jar", "target/sample-order-service.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            String why = jar + " not found: the end-to-end tests run the packaged service (mvn -pl sample-order-service -am verify)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            System.err.println("!!!!! SKIPPED: " + why);
            Assumptions.abort(why);
        }
        return jar;
    }
}
