package dev.xatm.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The RabbitMQ the outbox tests use: {@code TM_TEST_RABBIT_HOST} (127.0.0.1), {@code _PORT} (5672),
 * {@code _USER} and {@code _PASSWORD} (guest/guest). When nothing listens there the test is skipped
 * with one loud line, except under {@code CI=true}, where a missing broker is a failure
 * ({@code .ci/run} starts or installs it).
 *
 * <p>{@link #stopApp()} / {@link #startApp()} take the broker down and bring it back with
 * {@code rabbitmqctl stop_app / start_app} (the node stays up, durable queues and persistent
 * messages survive): this needs rabbitmqctl on this machine with the right to manage the node
 * (root here), and a broker on loopback.
 */
public final class TestBroker {
    private final String host;
    private final int port;
    private final String user;
    private final String password;

    private TestBroker(String host, int port, String user, String password) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** The broker from the environment, or a skipped test (a failed one under CI=true). */
    public static TestBroker require() {
        Map<String, String> env = System.getenv();
        TestBroker b = new TestBroker(env.getOrDefault("TM_TEST_RABBIT_HOST", "127.0.0.1"),
                Integer.parseInt(env.getOrDefault("TM_TEST_RABBIT_PORT", "5672")),
                env.getOrDefault("TM_TEST_RABBIT_USER", "guest"), env.getOrDefault("TM_TEST_RABBIT_PASSWORD", "guest"));
        if (!b.listening()) {
            String why = "the outbox tests need RabbitMQ at " + b.host + ":" + b.port
                    + " (TM_TEST_RABBIT_HOST/_PORT/_USER/_PASSWORD; `.ci/run --provision-only` starts or installs it)";
            if ("true".equalsIgnoreCase(env.get("CI"))) {
                Assertions.fail("CI=true but " + why);
            }
            System.err.println("!!!!! SKIPPED: " + why);
            Assumptions.abort(why);
        }
        return b;
    }

    public boolean listening() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** rabbitmqctl stop_app: the AMQP listener closes, every connection drops. */
    public void stopApp() {
        rabbitmqctl("stop_app");
    }

    /** rabbitmqctl start_app, then wait until the AMQP port answers. */
    public void startApp() {
        rabbitmqctl("start_app");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!listening()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("RabbitMQ not listening on " + host + ":" + port + " 60 s after start_app");
            }
            sleep(200);
        }
    }

    /** Whether this test may stop and start the broker (rabbitmqctl present, broker on loopback). */
    public boolean canRestart() {
        return (host.equals("127.0.0.1") || host.equals("localhost")) && rabbitmqctlFound();
    }

    private static boolean rabbitmqctlFound() {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/lib/rabbitmq/bin")) {
            if (new java.io.File(dir, "rabbitmqctl").canExecute()) {
                return true;
            }
        }
        return false;
    }

    private static void rabbitmqctl(String command) {
        try {
            Process p = new ProcessBuilder("rabbitmqctl", command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("rabbitmqctl " + command + " failed: " + out);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run rabbitmqctl " + command + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "RabbitMQ " + host + ":" + port; // never the password
    }
}
