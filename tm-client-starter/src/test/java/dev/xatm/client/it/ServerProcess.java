package dev.xatm.client.it;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/** A real tm-server process on free ports with a temporary log directory. */
final class ServerProcess implements AutoCloseable {
    final int grpcPort;
    final int adminPort;
    final String token;
    private final Path dir;
    private final Path output;
    private final Process process;

    private ServerProcess(int grpcPort, int adminPort, String token, Path dir, Path output, Process process) {
        this.grpcPort = grpcPort;
        this.adminPort = adminPort;
        this.token = token;
        this.dir = dir;
        this.output = output;
        this.process = process;
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("tm.test.server-jar", "../tm-server/target/tm-server.jar"));
        if (!Files.isRegularFile(jar)) {
            String why = "tm-server jar not found at " + jar.toAbsolutePath() + "; build it first: mvn -pl tm-server -am package -DskipTests";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(why);
            }
            System.err.println("!!!!! SKIPPING tm-client-starter integration test: " + why);
            Assumptions.abort(why);
        }
        return jar;
    }

    static ServerProcess start(String name) throws IOException {
        Path jar = jar();
        int grpc = freePort();
        int admin = freePort();
        String token = UUID.randomUUID().toString().replace("-", "");
        Path dir = Files.createTempDirectory("tm-it-" + name);
        Path out = dir.resolve("server.out");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-jar", jar.toAbsolutePath().toString(),
                "--server.port=" + admin, "--tm.server.port=" + grpc,
                "--tm.server.file.dir=" + dir.resolve("data"), "--tm.server.auth-token=" + token,
                "--tm.server.retry-initial-ms=100", "--tm.server.retry-max-ms=1000"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        ServerProcess s = new ServerProcess(grpc, admin, token, dir, out, p);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            await("tm-server " + name + " healthy").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!p.isAlive()) {
                    throw new IllegalStateException("tm-server exited: " + Files.readString(out));
                }
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/actuator/health"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() == 200;
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    String address() {
        return "127.0.0.1:" + grpcPort;
    }

    String output() throws IOException {
        return Files.readString(output);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // temp files; the OS cleans up
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
