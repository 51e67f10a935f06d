package dev.xatm.server.it;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
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

/**
 * The real tm-server, started from its packaged jar as a separate process, so that {@link #kill9()}
 * is a real crash: no shutdown hook, no flush, no goodbye on the streams.
 *
 * <p>Ports are picked free at first start and kept across restarts, as is the log directory, so a
 * restart is the same server coming back. All output goes to a file under target/it-logs for
 * post-mortems. The auth token is random per instance and never written to that file by us.
 *
 * <p>Not thread-safe: one test drives one instance.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

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
        Path target = jar.getParent();
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
        this.httpPort = freePort();
        int g = freePort();
        while (g == httpPort) {
            g = freePort();
        }
        this.grpcPort = g;
        this.token = UUID.randomUUID().toString();
        this.properties = new LinkedHashMap<>();
        properties.put("server.port", Integer.toString(httpPort));
        properties.put("server.address", "127.0.0.1");
        properties.put("tm.server.port", Integer.toString(grpcPort));
        properties.put("tm.server.file.dir", dataDir.toString());
        properties.put("tm.server.auth-token", token);
        properties.putAll(extraProperties);
    }

    /** Starts a server and waits until its health endpoint says UP. */
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

    /** Starts the same server again: same ports, same log directory, same token. */
    public void restart() {
        if (isAlive()) {
            throw new IllegalStateException("tm-server is still running");
        }
        note("restart on the same ports and data directory");
        startProcess();
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

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** target/tm-server.jar of this module: from failsafe's system property, else next to the working dir. */
    private static Path locateJar() {
        String configured = System.getProperty("tm.it.server-jar");
        List<Path> candidates = new ArrayList<>();
        if (configured != null) {
            candidates.add(Path.of(configured));
        }
        Path cwd = Path.of("").toAbsolutePath();
        candidates.add(cwd.resolve("target/tm-server.jar"));
        candidates.add(cwd.resolve("tm-server/target/tm-server.jar"));
        for (Path c : candidates) {
            if (Files.isRegularFile(c)) {
                return c.toAbsolutePath();
            }
        }
        throw new AssertionError("tm-server.jar not found (looked at " + candidates
                + "); build it first: mvn -B -pl tm-server -am package -DskipTests");
    }
}
