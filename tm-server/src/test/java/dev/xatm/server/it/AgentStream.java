package dev.xatm.server.it;

import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CoordinatorGrpc;
import dev.xatm.protocol.v1.Hello;
import dev.xatm.protocol.v1.ServerMessage;
import dev.xatm.testkit.Channels;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The test agent's one Connect stream to its server: the bearer token, Hello on every (re)connect,
 * a reconnect with backoff whenever the stream breaks, and sends serialised on one lock. It numbers
 * the streams (sessions) so the tests can tell a restarted server's commands from the old one's.
 * Transport only: what arrives goes to the {@link Listener}. Thread-safe.
 */
final class AgentStream {
    private static final Logger log = LoggerFactory.getLogger(AgentStream.class);
    private static final long BACKOFF_INITIAL_MS = 50;
    private static final long BACKOFF_MAX_MS = 1000;

    /** What the stream brings; each call names the session it came on. */
    interface Listener {
        void received(ServerMessage m, int session);

        /** The stream of {@code session} broke or was closed by the server (never called for an old, replaced one). */
        void lost(int session);
    }

    private final String agentId;
    private final Supplier<String> instanceSecret;
    private final ManagedChannel channel;
    private final CoordinatorGrpc.CoordinatorStub stub;
    private final ScheduledExecutorService scheduler;
    private final Listener listener;
    private final Object lock = new Object();
    private StreamObserver<AgentMessage> outbound; // guarded by lock; null while disconnected
    private int session; // guarded by lock
    private long backoffMs = BACKOFF_INITIAL_MS; // guarded by lock
    private volatile boolean welcomed;
    private volatile boolean closed;

    AgentStream(String agentId, String target, String token, Supplier<String> instanceSecret, ScheduledExecutorService scheduler,
                Listener listener) {
        this.agentId = agentId;
        this.instanceSecret = instanceSecret;
        this.channel = Channels.channel(target);
        this.stub = CoordinatorGrpc.newStub(channel).withInterceptors(Channels.bearer(token));
        this.scheduler = scheduler;
        this.listener = listener;
    }

    void connect() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            int s = ++session;
            // gRPC's own reconnect backoff grows to minutes; after a server restart we want to try now.
            channel.resetConnectBackoff();
            StreamObserver<AgentMessage> out = stub.connect(new Inbound(s));
            outbound = out;
            out.onNext(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(agentId)
                    .setInstanceSecret(instanceSecret.get())).build());
        }
    }

    /** The server welcomed the current stream. */
    void welcomed() {
        synchronized (lock) {
            backoffMs = BACKOFF_INITIAL_MS;
        }
        welcomed = true;
    }

    /** The number of the current (or last) stream, from 1; 0 before the first. */
    int session() {
        synchronized (lock) {
            return session;
        }
    }

    boolean isConnected() {
        return welcomed;
    }

    /** Sends {@code m} on the current stream; false (dropped) when there is none or it broke. */
    boolean send(AgentMessage m) {
        synchronized (lock) {
            if (closed || outbound == null) {
                log.info("{}: not connected, dropped {}", agentId, m.getBodyCase());
                return false;
            }
            try {
                outbound.onNext(m);
                return true;
            } catch (RuntimeException e) {
                log.info("{}: send failed ({}), dropped {}", agentId, e.toString(), m.getBodyCase());
                return false;
            }
        }
    }

    /** Gone like a killed process: the connection just vanishes. */
    void kill() {
        closed = true;
        channel.shutdownNow();
    }

    /** Ends the stream politely and closes the channel. */
    void close() {
        closed = true;
        synchronized (lock) {
            if (outbound != null) {
                try {
                    outbound.onCompleted();
                } catch (RuntimeException ignored) {
                    // already broken
                }
                outbound = null;
            }
        }
        Channels.shutdown(channel);
    }

    private void lost(int s, String why) {
        long delay;
        synchronized (lock) {
            if (s != session) {
                return; // an old stream, already replaced
            }
            outbound = null;
            welcomed = false;
            delay = backoffMs;
            backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
        }
        if (closed) {
            return;
        }
        log.info("{}: stream lost ({}); reconnecting in {} ms", agentId, why, delay);
        listener.lost(s);
        try {
            scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (RuntimeException shuttingDown) {
            // closed meanwhile
        }
    }

    private final class Inbound implements StreamObserver<ServerMessage> {
        private final int session;

        Inbound(int session) {
            this.session = session;
        }

        @Override
        public void onNext(ServerMessage m) {
            if (!closed) {
                listener.received(m, session);
            }
        }

        @Override
        public void onError(Throwable t) {
            lost(session, t.toString());
        }

        @Override
        public void onCompleted() {
            synchronized (lock) {
                if (session == AgentStream.this.session && outbound != null) {
                    try {
                        outbound.onCompleted();
                    } catch (RuntimeException ignored) {
                        // already closed from the other side
                    }
                }
            }
            lost(session, "server closed the stream");
        }
    }
}
