package dev.xatm.coordinator.transport;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Refuses every call that does not carry {@code authorization: Bearer <tm.server.auth-token>}, with
 * UNAUTHENTICATED and a WARN line naming the peer and the method (never the token, right or
 * wrong: a wrong one is often a neighbour's real token). The lines go through a {@link RefusalLog}:
 * at most one per client address per minute, with the count of the others.
 *
 * <p>The comparison hashes both sides and compares the digests with {@link MessageDigest#isEqual},
 * so its time depends neither on where the first differing character is nor on the token length.
 * Thread-safe.
 */
public final class AuthInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    /** The caller's address, for the services' log lines; formatted only when a line is written. */
    static final Context.Key<java.net.SocketAddress> PEER = Context.key("xatm-peer");
    private static final String SCHEME = "Bearer ";

    private final byte[] expectedDigest;
    private final byte[] expectedHeader;
    private final RefusalLog refusals;

    public AuthInterceptor(String token) {
        this(token, new RefusalLog(java.time.Clock.systemUTC(), log::warn));
    }

    AuthInterceptor(String token, RefusalLog refusals) {
        this.refusals = refusals;
        this.expectedDigest = sha256(token);
        this.expectedHeader = (SCHEME + token).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        java.net.SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String header = headers.get(AUTHORIZATION);
        if (!accepts(header)) {
            refusals.refused(RefusalLog.clientOf(peer), "Refused " + call.getMethodDescriptor().getFullMethodName() + " from " + peer + ": "
                    + (header == null ? "no authorization header" : "invalid bearer token"));
            call.close(Status.UNAUTHENTICATED.withDescription(
                    "missing or invalid bearer token (send metadata \"authorization: Bearer <tm.server.auth-token>\")"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(Context.current().withValue(PEER, peer), call, headers, next);
    }

    boolean accepts(String header) {
        if (header == null || header.length() < SCHEME.length() || !header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return false;
        }
        // Every call of every client carries the header, so the common case is checked without hashing:
        // the exact expected header, compared in constant time. Anything else (another spelling of the
        // scheme, a wrong token) goes through the digest, which also hides the token's length.
        if (MessageDigest.isEqual(expectedHeader, header.getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        return MessageDigest.isEqual(expectedDigest, sha256(header.substring(SCHEME.length())));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
