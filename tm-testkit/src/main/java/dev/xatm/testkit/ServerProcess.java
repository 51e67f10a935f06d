package dev.xatm.testkit;

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
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real tm-server, started from its packaged jar as a separate process, so that {@link #kill9()}
 * is a real crash: no shutdown hook, no flush, no goodbye on the streams.
 *
 * <p>The jar is {@code tm-server/target/tm-server.jar} of this checkout, found by walking up from
 * the working directory to the repository root (system property {@code tm.it.server-jar}
 * overrides). A module whose ITs use it must build after tm-server in the reactor. No jar: the
 * test fails under {@code CI=true}, else it is skipped with one loud line.
 *
 * <p>Ports are picked free at first start and kept across restarts, as is the data directory
 * (a fresh temporary one under the calling module's {@code target/it-data}), so a restart is the
 * same server coming back. All output goes to {@code <name>.log} under the calling module's
 * {@code target/it-logs} (system property {@code tm.it.log-dir} overrides) for post-mortems. The
 * auth token is random per instance unless the caller gives {@code tm.server.auth-token} (servers
 * sharing one store share it), and never written to that file by us. On a JDBC store the server
 * is also told its {@code tm.server.advertised-address} (127.0.0.1 and its gRPC port).
 *
 * <p>Not thread-safe: one test drives one instance.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final String name;
    private final Path jar;
    private final Path dataDir;
    private final Path logFile;
    private final int httpPort;
    private final int grpcPort;
    private final String token;
    private final Map<String, String> properties;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;

    private ServerProcess(String name, Map<String, String> extraProperties) {
        this.name = name;
        this.jar = locateJar();
        // The calling module's target/: failsafe and surefire run with the module as working directory.
        Path target = Path.of("target").toAbsolutePath();
        try {
            Path logDir = Path.of(System.getProperty("tm.it.log-dir", target.resolve("it-logs").toString()));
            Files.createDirectories(logDir);
            this.logFile = logDir.resolve(name + ".log");
            Files.deleteIfExists(logFile);
            Path dataRoot = target.resolve("it-data");
            Files.createDirectories(dataRoot);
            this.dataDir = Files.createTempDirectory(dataRoot, name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.httpPort = Ports.free();
        this.grpcPort = Ports.freeExcept(httpPort);
        // Servers sharing one store share one client token (agents fail over between them): a caller
        // that gives one gets it back from token(), so the never-logged check looks for the right secret.
        String givenToken = extraProperties.get("tm.server.auth-token");
        this.token = givenToken != null && !givenToken.isBlank() ? givenToken : UUID.randomUUID().toString();
        this.properties = new LinkedHashMap<>();
        properties.put("server.port", Integer.toString(httpPort));
        properties.put("server.address", "127.0.0.1");
        properties.put("tm.server.port", Integer.toString(grpcPort));
        properties.put("tm.server.file.dir", dataDir.toString());
        properties.put("tm.server.auth-token", token);
        properties.putAll(extraProperties);
        if ("jdbc".equals(properties.get("tm.server.store"))) {
            // What the other servers of the store hand to agents (Members RPC): the port is picked
            // here, so only this class can say it. An older server ignores the unknown property.
            properties.putIfAbsent("tm.server.advertised-address", grpcTarget());
        }
    }

    /**
     * Starts a server and waits until its health endpoint says UP. {@code name} names the log
     * file (unique per test); {@code properties} are extra {@code --name=value} arguments, which may
     * override the defaults (ports, file dir, token) but normally should not.
     */
    public static ServerProcess start(String name, Map<String, String> properties) {
        ServerProcess s = new ServerProcess(name, properties);
        s.startProcess();
        return s;
    }

    public String grpcTarget() {
        return "127.0.0.1:" + grpcPort;
    }

    public int httpPort() {
        return httpPort;
    }

    public String token() {
        return token;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return logFile;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL (Process.destroyForcibly on Linux) and make sure the process is gone. */
    public void kill9() {
        Process p = process;
        long pid = p.pid();
        note("kill -9 of pid " + pid);
        p.destroyForcibly();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("tm-server pid " + pid + " still alive 30 s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while killing tm-server", e);
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new AssertionError("tm-server pid " + pid + " is still alive after SIGKILL");
        }
        // 128 + 9: it really died of SIGKILL, not of something else first.
        if (p.exitValue() != 137) {
            note("exit value after kill -9 was " + p.exitValue() + " (expected 137)");
        }
    }

    /**
     * SIGSTOP: the process freezes as in a long GC pause or a stalled VM (no thread runs, no socket
     * closes, its lease is not renewed) until {@link #sigcont()}.
     */
    public void sigstop() {
        signal("STOP");
    }

    /** SIGCONT: a process frozen by {@link #sigstop()} runs on from where it stopped. */
    public void sigcont() {
        signal("CONT");
    }

    private void signal(String name) {
        long pid = process.pid();
        note("kill -" + name + " of pid " + pid);
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while sending SIG" + name, e);
        }
    }

    /** Starts the same server again: same ports, same log directory, same token. */
    public void restart() {
        if (isAlive()) {
            throw new IllegalStateException("tm-server is still running");
        }
        note("restart on the same ports and data directory");
        startProcess();
    }

    /**
     * Starts the same server again with some properties changed: an empty value removes the
     * property (e.g. {@code tm.server.crash-point} after the crash it was armed for).
     */
    public void restart(Map<String, String> changes) {
        changes.forEach((k, v) -> {
            if (v == null || v.isEmpty()) {
                properties.remove(k);
            } else {
                properties.put(k, v);
            }
        });
        restart();
    }

    /**
     * Waits for the process to die on its own (a crash point halts it) and returns its exit status.
     * Fails if it is still alive after {@code timeout}.
     */
    public int awaitExit(Duration timeout) {
        Process p = process;
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("tm-server pid " + p.pid() + " still alive after " + timeout + "; log " + logFile + ":\n" + tail(40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for tm-server to exit", e);
        }
        note("exited by itself with status " + p.exitValue());
        return p.exitValue();
    }

    /**
     * The admin API's bearer token, read the way an operator would: from {@code <file.dir>/admin-token},
     * which the server generates when {@code tm.server.admin-token} is not set.
     */
    public String adminToken() {
        try {
            return Files.readString(dataDir.resolve("admin-token"), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("no admin-token file in " + dataDir + " (was tm.server.admin-token set?)", e);
        }
    }

    /** The check every IT makes at the end: the server never printed its auth token. */
    public void assertTokenNeverLogged() {
        assertThat(output()).as("tm-server output (" + logFile + ") must never contain the auth token")
                .doesNotContain(token);
        if (Files.exists(dataDir.resolve("admin-token"))) {
            assertThat(output()).as("tm-server output (" + logFile + ") must never contain the admin token")
                    .doesNotContain(adminToken());
        }
    }

    /** The server's output so far (for assertions such as "the token is never logged"). */
    public String output() {
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startProcess() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small and quick to start: two shared cores run the build, the tests and this server.
        cmd.add("-Xmx256m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-jar");
        cmd.add(jar.toString());
        properties.forEach((k, v) -> cmd.add("--" + k + "=" + v));
        starts++;
        note("start #" + starts + ": java -jar " + jar.getFileName() + " (http " + httpPort + ", grpc " + grpcPort
                + ", dir " + dataDir + ")");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + jar, e);
        }
        // A child process outlives a test JVM that dies or is interrupted; do not leave servers behind.
        Process started = process;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "kill-" + name));
        awaitHealthy();
    }

    private void awaitHealthy() {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(2)).GET().build();
        String[] last = {"no answer"};
        try {
            Awaitility.await("tm-server " + name + " healthy")
                    .atMost(START_TIMEOUT)
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new AssertionError("tm-server exited with " + process.exitValue()
                                    + " before it was healthy; log " + logFile + ":\n" + tail(60));
                        }
                        try {
                            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                            last[0] = r.statusCode() + " " + r.body();
                            return r.statusCode() == 200 && r.body().contains("\"UP\"");
                        } catch (IOException e) {
                            last[0] = e.toString();
                            return false;
                        }
                    });
        } catch (ConditionTimeoutException e) {
            process.destroyForcibly();
            throw new AssertionError("tm-server not healthy after " + START_TIMEOUT + " (last: " + last[0] + "); log "
                    + logFile + ":\n" + tail(60), e);
        }
    }

    /** The last lines of the server's output, for failure messages. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
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

    /** Stops the server normally (SIGTERM, then SIGKILL if it hangs). */
    @Override
    public void close() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        note("stop");
        p.destroy();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                note("did not stop within 20 s; kill -9");
                p.destroyForcibly();
                p.waitFor(20, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** tm-server/target/tm-server.jar under the repository root (the first ancestor holding tm-server/pom.xml). */
    static Path locateJar() {
        String configured = System.getProperty("tm.it.server-jar");
        Path jar = null;
        if (configured != null && !configured.isBlank()) {
            jar = Path.of(configured).toAbsolutePath();
        } else {
            for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
                if (Files.isRegularFile(dir.resolve("tm-server/pom.xml"))) {
                    jar = dir.resolve("tm-server/target/tm-server.jar");
                    break;
                }
            }
        }
        if (jar != null && Files.isRegularFile(jar)) {
            return jar;
        }
        String why = "tm-server.jar not found (" + (jar == null ? "no tm-server/ above " + Path.of("").toAbsolutePath()
                : "looked at " + jar) + "); build it first: mvn -B -q -pl tm-server -am package -DskipTests";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true but " + why);
        }
        if (WARNED.compareAndSet(false, true)) {
            System.err.println("!!!!! SKIPPED: " + why);
        }
        Assumptions.abort(why);
        throw new AssertionError("unreachable");
    }
}
