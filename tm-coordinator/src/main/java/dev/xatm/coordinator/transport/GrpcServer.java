package dev.xatm.coordinator.transport;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Netty gRPC server on {@code tm.server.port}.
 *
 * <p>Lifecycle: the coordinator loop is running before any lifecycle starts (it starts when its bean
 * is created), so the first call finds it ready. This server starts before the admin HTTP server
 * ({@link #PHASE}), so a health check that answers at all means gRPC is already listening; and it
 * stops after the HTTP server's graceful shutdown.
 *
 * <p>Keep-alive is how the server notices that an agent vanished without closing its stream
 * (process killed, cable pulled): a ping every keepalive-ms that is not answered within
 * keepalive-ms ends the connection, and with it the agent's stream (design notes 8).
 *
 * <p>It listens on {@code tm.server.bind-address} (every interface by default), with TLS when
 * {@code tm.server.tls.*} configures it ({@link ServerTls}). Listening beyond loopback without TLS
 * puts the bearer token and every vote and decision on the network in clear text: that is allowed
 * (it is the default, so a first start just works) but logged as one WARN at start.
 */
public final class GrpcServer implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);
    /** How long in-flight unary calls (e.g. a commit waiting for its decision) get at shutdown. */
    private static final long SHUTDOWN_GRACE_MILLIS = 5_000;
    /** Before Spring Boot's web server start (DEFAULT_PHASE - 2048) and graceful shutdown (- 1024). */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final InetSocketAddress configuredAddress;
    /** null: plaintext. */
    private final SslContext tls;
    private final long keepaliveMillis;
    private final int maxInboundMessageBytes;
    private final BindableService service;
    private final AuthInterceptor auth;
    private final AgentRegistry registry;

    private volatile Server server;

    /**
     * @param address where to listen (a wildcard address: every interface); port 0 picks a free one
     * @param tls     the TLS context of {@link ServerTls}, or null for plaintext
     */
    public GrpcServer(InetSocketAddress address, SslContext tls, long keepaliveMillis, int maxInboundMessageBytes,
                      BindableService service, AuthInterceptor auth, AgentRegistry registry) {
        this.configuredAddress = address;
        this.tls = tls;
        this.keepaliveMillis = keepaliveMillis;
        this.maxInboundMessageBytes = maxInboundMessageBytes;
        this.service = service;
        this.auth = auth;
        this.registry = registry;
    }

    @Override
    public synchronized void start() {
        if (server != null) {
            return;
        }
        NettyServerBuilder builder = NettyServerBuilder.forAddress(configuredAddress);
        if (tls != null) {
            builder.sslContext(tls);
        }
        Server s = builder
                // Handlers only validate and queue work for the coordinator loop (the store's reads
                // run on a thread of their own), so they run on the transport thread that decoded the
                // call: no hand-off to a pool and back per message.
                .directExecutor()
                .keepAliveTime(keepaliveMillis, TimeUnit.MILLISECONDS)
                .keepAliveTimeout(keepaliveMillis, TimeUnit.MILLISECONDS)
                // agents ping too, to notice a dead server; let them, as often as once a second
                .permitKeepAliveTime(Math.min(keepaliveMillis, 1_000), TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxInboundMessageSize(maxInboundMessageBytes)
                .maxInboundMetadataSize(8 * 1024)
                .handshakeTimeout(10, TimeUnit.SECONDS)
                .addService(ServerInterceptors.intercept(service, auth))
                .build();
        try {
            s.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot listen for gRPC on " + describe(configuredAddress) + " (tm.server.bind-address,"
                    + " tm.server.port): " + e.getMessage(), e);
        }
        server = s;
        log.info("tm-server gRPC listening on {} port {}, {}", describe(configuredAddress), s.getPort(),
                tls == null ? "plaintext" : "TLS");
        if (exposedInPlaintext(configuredAddress, tls != null)) {
            log.warn("tm-server gRPC listens on {} without TLS: the auth token and every vote and decision cross the network"
                    + " in clear text. Turn on TLS with tm.server.tls.bundle (docs/security.md), or listen on loopback only"
                    + " with tm.server.bind-address=127.0.0.1 when every client runs on this machine", describe(configuredAddress));
        }
    }

    /** Whether clients beyond this machine can reach a port that does not speak TLS. */
    static boolean exposedInPlaintext(InetSocketAddress address, boolean tls) {
        return !tls && !address.getAddress().isLoopbackAddress();
    }

    private static String describe(InetSocketAddress address) {
        return address.getAddress().isAnyLocalAddress() ? "all interfaces" : address.getAddress().getHostAddress();
    }

    @Override
    public synchronized void stop() {
        Server s = server;
        if (s == null) {
            return;
        }
        s.shutdown(); // no new calls
        // Agent streams never end by themselves; close them so only short unary calls remain.
        registry.closeAll(Status.UNAVAILABLE.withDescription("tm-server is shutting down"));
        try {
            if (!s.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                s.shutdownNow();
                s.awaitTermination(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            s.shutdownNow();
            Thread.currentThread().interrupt();
        }
        server = null;
        log.info("tm-server gRPC stopped");
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    @Override
    public boolean isRunning() {
        return server != null;
    }

    /** The bound address and port (the port the system picked, for tm.server.port=0). */
    public InetSocketAddress address() {
        Server s = server;
        if (s == null) {
            throw new IllegalStateException("the gRPC server is not running");
        }
        return (InetSocketAddress) s.getListenSockets().get(0);
    }

    /** The bound port: the configured one, or the one the system picked for tm.server.port=0. */
    public int port() {
        Server s = server;
        if (s == null) {
            throw new IllegalStateException("the gRPC server is not running");
        }
        return s.getPort();
    }
}
