package dev.xatm.client.coordinator;

import dev.xatm.protocol.TokenRule;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.EquivalentAddressGroup;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.NameResolver;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A gRPC channel of an application instance to one tm-server, shared by the TM calls about the gtrids
 * that server owns and the agent's stream to it ({@link CoordinatorChannels} holds one per server).
 * Every call carries {@code authorization: Bearer <token>}. Keep-alive pings let the agent notice a
 * dead server (and the server a dead agent) without waiting for TCP.
 *
 * <p>Given several addresses it tries them in order (pick_first): the first that accepts a connection
 * is used, and a broken connection moves on to the next. In embedded mode the channel is an
 * in-process one ({@link #inProcess}) to the coordinator in the same JVM: same calls, same token, no
 * socket. Thread-safe.
 */
public final class CoordinatorChannel implements AutoCloseable {
    /** grpc-java's floor for a client's keep-alive ping interval (KeepAliveManager). */
    static final long MIN_PING_INTERVAL_MILLIS = 10_000;
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    /** Makes the connection; called again by {@link #dropCallsAndReconnect()}. */
    private final Supplier<ManagedChannel> connector;
    private final Channel channel;
    private final String description;
    private final String address;
    private volatile ManagedChannel managed;
    private boolean closed; // guarded by this

    /** A plaintext channel. */
    public CoordinatorChannel(List<InetSocketAddress> addresses, String authToken, long keepaliveMillis) {
        this(addresses, authToken, keepaliveMillis, null);
    }

    /** With {@code tls} null, plaintext; otherwise TLS to every address ({@code tm.client.tls.*}). */
    public CoordinatorChannel(List<InetSocketAddress> addresses, String authToken, long keepaliveMillis, ChannelTls tls) {
        // the token is checked before the channel exists, so a refused configuration leaks no channel
        this(requireRemoteToken(authToken), "tm-server at " + describe(addresses) + (tls == null ? "" : " (TLS)"), describe(addresses),
                () -> remote(addresses, keepaliveMillis, tls));
    }

    private CoordinatorChannel(String authToken, String description, String address, Supplier<ManagedChannel> connector) {
        this.connector = connector;
        this.managed = connector.get();
        this.description = description;
        this.address = address;
        // Stubs are made once over this channel; it always passes their calls to the current connection.
        this.channel = ClientInterceptors.intercept(new Channel() {
            @Override
            public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
                return managed.newCall(method, options);
            }

            @Override
            public String authority() {
                return managed.authority();
            }
        }, bearer(authToken));
    }

    /**
     * A channel to the in-process gRPC server named {@code serverName} (embedded mode). It carries the
     * token like any other: the embedded coordinator checks it with the same interceptor as tm-server.
     */
    public static CoordinatorChannel inProcess(String serverName, String authToken, String description) {
        return new CoordinatorChannel(requireToken(authToken), description, serverName,
                () -> InProcessChannelBuilder.forName(serverName).build());
    }

    private static String requireToken(String authToken) {
        if (authToken == null || authToken.isBlank()) {
            throw new IllegalArgumentException("tm.client.auth-token is not set; use the value of tm-server's tm.server.auth-token "
                    + "(or the token it generated into <tm.server.file.dir>/auth-token)");
        }
        return authToken;
    }

    /** A token that crosses the network follows the token rule (at least 16 characters): tm-server refuses shorter ones anyway. */
    private static String requireRemoteToken(String authToken) {
        requireToken(authToken);
        TokenRule.requireLongEnough("tm.client.auth-token", authToken);
        return authToken;
    }

    private static ManagedChannel remote(List<InetSocketAddress> addresses, long keepaliveMillis, ChannelTls tls) {
        NettyChannelBuilder builder = addresses.size() == 1
                ? NettyChannelBuilder.forAddress(addresses.get(0).getHostString(), addresses.get(0).getPort())
                : nameResolved(addresses, tls == null || tls.authorityOverride() == null);
        if (tls == null) {
            builder.usePlaintext();
        } else {
            tls.applyTo(builder);
        }
        return builder
                // gRPC raises a client ping interval under 10 s to 10 s anyway; said here so nobody reads
                // 5 s into it. The ack timeout is taken as given.
                .keepAliveTime(Math.max(MIN_PING_INTERVAL_MILLIS, keepaliveMillis), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(keepaliveMillis, TimeUnit.MILLISECONDS)
                .keepAliveWithoutCalls(true)
                .build();
    }

    public Channel channel() {
        return channel;
    }

    public String description() {
        return description;
    }

    /**
     * Where it connects: "host:port" (comma-separated for several), or the in-process server's name.
     * Compared with the addresses the cluster announces, so a server is not given a second channel.
     */
    public String address() {
        return address;
    }

    /**
     * Makes the channel try to connect now instead of waiting out gRPC's own reconnect backoff (up
     * to two minutes). The agent has a backoff of its own; without this, a coordinator that came
     * back would stay unreachable for the rest of gRPC's, failing every attempt of the agent's.
     */
    public void resetConnectBackoff() {
        managed.resetConnectBackoff();
    }

    /**
     * Ends the connection and with it every call still on it (they fail with UNAVAILABLE), and makes a
     * new one for what comes next. For a server that no longer holds its lease: it is frozen, cut off
     * from its store or taken over, and a call waiting on it would wait until gRPC's keep-alive gives
     * up. Nothing is lost by the cancel: an outcome it may have decided is in the shared store.
     */
    public void dropCallsAndReconnect() {
        ManagedChannel old;
        synchronized (this) {
            if (closed) {
                return;
            }
            old = managed;
            managed = connector.get();
        }
        old.shutdownNow();
    }

    @Override
    public void close() {
        ManagedChannel last;
        synchronized (this) {
            closed = true;
            last = managed;
        }
        last.shutdownNow();
        try {
            last.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ClientInterceptor bearer(String token) {
        String value = "Bearer " + token;
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        headers.put(AUTHORIZATION, value);
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    @SuppressWarnings("deprecation") // nameResolverFactory: the simplest way to hand gRPC a fixed address list
    private static NettyChannelBuilder nameResolved(List<InetSocketAddress> addresses, boolean authorityPerAddress) {
        NameResolver.Factory factory = new NameResolver.Factory() {
            @Override
            public NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
                return new NameResolver() {
                    @Override
                    public String getServiceAuthority() {
                        return addresses.get(0).getHostString();
                    }

                    @Override
                    public void start(Listener2 listener) {
                        // one group per address: pick_first tries them in order
                        // Each address carries its own authority, so TLS checks every server's
                        // certificate against the host dialled, not against the first address's.
                        // Not with tm.client.tls.authority: gRPC prefers an address's authority to
                        // the channel's override.
                        List<EquivalentAddressGroup> groups = addresses.stream()
                                .map(a -> new EquivalentAddressGroup(new InetSocketAddress(a.getHostString(), a.getPort()),
                                        authorityPerAddress ? Attributes.newBuilder().set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE,
                                                a.getHostString() + ":" + a.getPort()).build() : Attributes.EMPTY))
                                .toList();
                        listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
                    }

                    @Override
                    public void shutdown() {
                    }
                };
            }

            @Override
            public String getDefaultScheme() {
                return "xatm-static";
            }
        };
        return NettyChannelBuilder.forTarget("xatm-static:///coordinators").nameResolverFactory(factory);
    }

    private static String describe(List<InetSocketAddress> addresses) {
        StringBuilder sb = new StringBuilder();
        for (InetSocketAddress a : addresses) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(a.getHostString()).append(':').append(a.getPort());
        }
        return sb.toString();
    }
}
