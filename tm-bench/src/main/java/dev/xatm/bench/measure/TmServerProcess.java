package dev.xatm.bench.measure;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * tm-server as a separate process, from its packaged jar, on free ports, with its log in a
 * directory of this run. Stopped with SIGTERM so the file log closes and prints its counters.
 */
public final class TmServerProcess implements AutoCloseable {
    /** FileTxnLog.close() logs "transaction log DIR closed: N records written, M fsyncs, K checkpoints". */
    private static final Pattern CLOSED = Pattern.compile("closed: (\\d+) records written, (\\d+) fsyncs, (\\d+) checkpoints");

    private final Process process;
    private final Path output;
    private final int grpcPort;
    private final String token = UUID.randomUUID().toString();
    private boolean stopped;

    public TmServerProcess(Path jar, Path workDir, List<String> jvmArgs) throws IOException, InterruptedException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("tm-server jar not found at " + jar + " (mvn -B -pl tm-server -am package -DskipTests)");
        }
        Path dataDir = Files.createDirectories(workDir.resolve("tm-data"));
        this.output = workDir.resolve("tm-server.log");
        int httpPort = freePort();
        this.grpcPort = freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.add("--server.port=" + httpPort);
        cmd.add("--server.address=127.0.0.1");
        cmd.add("--tm.server.port=" + grpcPort);
        cmd.add("--tm.server.file.dir=" + dataDir);
        // The token travels on the command line of a local child process only; it is never printed.
        cmd.add("--tm.server.auth-token=" + token);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "kill-tm-server"));
        awaitHealthy(httpPort);
    }

    public String grpcTarget() {
        return "127.0.0.1:" + grpcPort;
    }

    public String token() {
        return token;
    }

    public long pid() {
        return process.pid();
    }

    /**
     * SIGTERM, wait for the graceful shutdown, and read the log's counters from the output:
     * {records, fsyncs} or null when the line is missing.
     */
    public long[] stopAndReadLogCounters() throws IOException, InterruptedException {
        stopped = true;
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            return null;
        }
        Matcher m = CLOSED.matcher(Files.readString(output));
        long[] last = null;
        while (m.find()) {
            last = new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))};
        }
        return last;
    }

    @Override
    public void close() throws InterruptedException {
        if (!stopped && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private void awaitHealthy(int httpPort) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/health"))
                .timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tm-server exited with " + process.exitValue() + " during start-up; see " + output);
            }
            try {
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("\"UP\"")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        throw new IllegalStateException("tm-server not healthy after 120 s; see " + output);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
