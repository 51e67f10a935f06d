package dev.xatm.client.embedded;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The embedded coordinator's gRPC service on an in-process transport: the application's own TM calls
 * and agent stream reach it without a socket, through the same service and the same bearer-token
 * interceptor as tm-server's network listener, so embedded mode runs the same code paths.
 *
 * <p>Started when created, so the first call finds it (the coordinator loop behind the service has
 * already restored the log: it starts when its bean is created). Closed after the application's
 * channel (which depends on it), so in-flight calls end first. Thread-safe.
 */
final class InProcessCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InProcessCoordinator.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    private static final long SHUTDOWN_GRACE_MILLIS = 5_000;

    private final String name;
    private final Server server;

    InProcessCoordinator(BindableService service, ServerInterceptor auth) {
        // unique per JVM: two embedded applications in one test JVM must not meet each other
        this.name = "xatm-embedded-" + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet();
        try {
            // Handlers only validate and queue work for the coordinator loop, so they run on the calling
            // thread (a business thread's commit, the agent's sending thread): no hand-off to a pool and
            // back per call. The application's channel keeps its own executor, so nothing the server
            // sends ever runs application code on a server thread.
            this.server = InProcessServerBuilder.forName(name)
                    .directExecutor()
                    .addService(ServerInterceptors.intercept(service, auth))
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the embedded coordinator's in-process transport", e);
        }
        log.info("Embedded coordinator serving in-process as '{}'", name);
    }

    /** The in-process server name the application's channel connects to. */
    String name() {
        return name;
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
