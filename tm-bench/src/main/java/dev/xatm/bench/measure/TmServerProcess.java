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
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * tm-server as a separate process, from its packaged jar, on free ports, with its log in a
 * directory of this run (the file store) or in tables of a database (the JDBC store, one node of
 * several). Stopped with SIGTERM so the log closes and prints its counters.
 *
 * <p>Start-up is two steps, {@link #launch} and {@link #awaitHealthy()}, so that several servers
 * can start side by side; the constructor does both for one server.
 */
public final class TmServerProcess implements AutoCloseable {
    /** FileTxnLog.close() logs "transaction log DIR closed: N records written, M fsyncs, K checkpoints". */
    private static final Pattern FILE_CLOSED = Pattern.compile("closed: (\\d+) records written, (\\d+) fsyncs, (\\d+) checkpoints");
    /** JdbcTxnLog.close() logs "JDBC transaction log closed: N records written in M decision statements, K retried batches". */
    private static final Pattern JDBC_CLOSED = Pattern.compile(
            "JDBC transaction log closed: (\\d+) records written in (\\d+) decision statements, (\\d+) retried batches");

    /** Where the server keeps its log. */
    public sealed interface Store {
        /** A fresh file log in the server's work directory (the default, as a single server runs). */
        record File() implements Store {}

        /**
         * Tables {@code <tablePrefix>node/decision/schema_history} in a PostgreSQL or MySQL/MariaDB
         * database, as node {@code nodeId} of the servers sharing them (docs/ha.md).
         */
        record Jdbc(String url, String username, String password, String tablePrefix, int nodeId) implements Store {
            @Override
            public String toString() {
                return "Jdbc{url=" + url + ", username=" + username + ", tablePrefix=" + tablePrefix + ", nodeId=" + nodeId + '}';
            }
        }
    }

    private final Process process;
    private final Path output;
    private final int httpPort;
    private final int grpcPort;
    private final String token;
    /** Read-role admin token of this process alone, for its Prometheus endpoint (the log's counters during the run). */
    private final String readToken = UUID.randomUUID().toString();
    private final Store store;
    private boolean stopped;

    /** One server on the file store, started and healthy when this returns. */
    public TmServerProcess(Path jar, Path workDir, List<String> jvmArgs) throws IOException, InterruptedException {
        this(jar, workDir, jvmArgs, new Store.File(), UUID.randomUUID().toString());
        try {
            awaitHealthy();
        } catch (IOException | InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Starts a server and returns at once; call {@link #awaitHealthy()} before using it. Servers that
     * share a store must share {@code token} too (agents and applications fail over between them).
     */
    public static TmServerProcess launch(Path jar, Path workDir, List<String> jvmArgs, Store store, String token) throws IOException {
        return new TmServerProcess(jar, workDir, jvmArgs, store, token);
    }

    private TmServerProcess(Path jar, Path workDir, List<String> jvmArgs, Store store, String token) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("tm-server jar not found at " + jar + " (mvn -B -pl tm-server -am package -DskipTests)");
        }
        Path dataDir = Files.createDirectories(workDir.resolve("tm-data"));
        this.output = workDir.resolve("tm-server.log");
        this.store = store;
        this.token = token;
        this.httpPort = freePort();
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
        ProcessBuilder builder = new ProcessBuilder(cmd);
        // Through the environment, not the command line (Spring's relaxed binding drops the dashes).
        builder.environment().put("TM_SERVER_ADMINREADTOKEN", readToken);
        if (store instanceof Store.Jdbc jdbc) {
            cmd.add("--tm.server.store=jdbc");
            cmd.add("--tm.server.jdbc.url=" + jdbc.url());
            cmd.add("--tm.server.jdbc.username=" + jdbc.username());
            cmd.add("--tm.server.jdbc.table-prefix=" + jdbc.tablePrefix());
            cmd.add("--tm.server.node-id=" + jdbc.nodeId());
            // What the other servers and the agents' member lists show for this node; a build that does
            // not know the property yet ignores it.
            cmd.add("--tm.server.advertised-address=" + grpcTarget());
            // The password goes through the child's environment (Spring's relaxed binding), not its command line.
            builder.environment().put("TM_SERVER_JDBC_PASSWORD", jdbc.password());
        }
        process = builder.redirectErrorStream(true).redirectOutput(output.toFile()).start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "kill-tm-server"));
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
     * SIGTERM only, so that servers sharing a store are all signalled before any is awaited and stop
     * close together. A clean stop releases the node's lease, and a server of the same store that is
     * still running may then take that node over (adopting nothing once the load has stopped).
     */
    public void signalStop() {
        stopped = true;
        process.destroy();
    }

    /**
     * After {@link #signalStop()}: waits for the graceful shutdown and reads the log's counters from the
     * output: {@code records} and {@code fsyncs} (file store) or {@code records} and {@code statements}
     * (JDBC store: decision statements, one database commit each), or empty when the line is missing.
     */
    public Map<String, Long> awaitStopAndReadLogCounters() throws IOException, InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            return Map.of();
        }
        boolean jdbc = store instanceof Store.Jdbc;
        Matcher m = (jdbc ? JDBC_CLOSED : FILE_CLOSED).matcher(Files.readString(output));
        Map<String, Long> last = Map.of();
        while (m.find()) {
            last = Map.of("records", Long.parseLong(m.group(1)), jdbc ? "statements" : "fsyncs", Long.parseLong(m.group(2)));
        }
        return last;
    }

    /**
     * The file log's counters now, from the server's Prometheus endpoint: {@code records}
     * (xatm.log.records) and {@code fsyncs} (the count of the xatm.log.fsync timer); empty for the
     * JDBC store, which publishes neither, or when the endpoint does not answer.
     */
    public Map<String, Long> logCounters() {
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/actuator/prometheus"))
                    .header("Authorization", "Bearer " + readToken).timeout(Duration.ofSeconds(5)).GET().build();
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return Map.of();
            }
            return PrometheusText.logCounters(r.body());
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
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

    /** Waits until actuator health says UP (at most 120 s); kills the process and throws otherwise. */
    public void awaitHealthy() throws IOException, InterruptedException {
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
