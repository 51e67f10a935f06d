package dev.xatm.server.it;

import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.PhaseCommand;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.protocol.v1.Welcome;
import dev.xatm.testkit.Channels;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.stub.StreamObserver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted stand-in for the server's agent stream, used only to test {@link TestAgent} itself:
 * it welcomes every Hello, records what the agent sends, and lets the test push phase commands.
 * {@link #stop()} and {@link #start()} on the same port play a coordinator restart.
 */
final class FakeCoordinator implements AutoCloseable {
    private final BlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final Object sendLock = new Object();
    private StreamObserver<ServerMessage> toAgent; // guarded by sendLock
    private Server server;
    private int port;

    FakeCoordinator start() {
        ServerInterceptor recordAuth = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                authorizations.add(String.valueOf(headers.get(Channels.AUTHORIZATION)));
                return next.startCall(call, headers);
            }
        };
        try {
            server = io.grpc.Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create())
                    .addService(ServerInterceptors.intercept(new Service(), recordAuth))
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        port = server.getPort();
        return this;
    }

    String target() {
        return "127.0.0.1:" + port;
    }

    List<String> authorizations() {
        return List.copyOf(authorizations);
    }

    /** The next message from the agent, or null after {@code timeout}. */
    AgentMessage next(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void send(PhaseCommand command) {
        synchronized (sendLock) {
            toAgent.onNext(ServerMessage.newBuilder().setCommand(command).build());
        }
    }

    /** Drops every stream at once, like a crashed server. */
    void stop() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (server != null) {
            stop();
        }
    }

    private final class Service extends CoordinatorGrpc.CoordinatorImplBase {
        @Override
        public StreamObserver<AgentMessage> connect(StreamObserver<ServerMessage> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(AgentMessage m) {
                    if (m.hasHello()) {
                        synchronized (sendLock) {
                            toAgent = out;
                            out.onNext(ServerMessage.newBuilder().setWelcome(Welcome.newBuilder().setServerId("fake")).build());
                        }
                    }
                    received.add(m);
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
