package dev.xatm.coordinator.transport;

import dev.xatm.core.Reply;
import dev.xatm.protocol.v1.OutcomeResponse;
import dev.xatm.coordinator.engine.CoordinatorUnavailableException;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.net.SocketAddress;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * How the {@link CoordinatorService} answers a call: the core's reply as the call's response, the
 * core's refusal as the matching gRPC status, a cancelled call forgetting its waiter, and one INFO
 * line per refusal naming the caller's address. Stateless; its methods may run on any thread, each
 * writing one call's observer once.
 */
final class CallAnswers {
    /** Refusals are logged under the service's name, where operators look for them. */
    private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);

    private CallAnswers() {}

    static OutcomeResponse outcome(Reply reply) {
        if (reply instanceof Reply.Decided decided) {
            return OutcomeResponse.newBuilder().setOutcome(Protos.outcome(decided.outcome()))
                    .setDetail(detail(decided.outcome(), false)).build();
        }
        if (reply instanceof Reply.Finished finished) {
            return OutcomeResponse.newBuilder().setOutcome(Protos.outcome(finished.outcome()))
                    .setDetail(detail(finished.outcome(), true)).build();
        }
        return null;
    }

    private static String detail(dev.xatm.core.Outcome outcome, boolean finished) {
        return switch (outcome) {
            case COMMITTED -> finished ? "committed; every branch acknowledged" : "commit decided and durable; branches are being committed";
            case ROLLED_BACK -> finished ? "rolled back; every branch acknowledged" : "rolled back";
            case TIMED_OUT -> "rolled back: the transaction's deadline passed before a commit decision";
            case HEURISTIC_HAZARD -> "outcome not certain: a database reported a heuristic outcome, or the single branch's agent"
                    + " went away during its one-phase commit; an operator must look at it (admin API: in-doubt list)";
        };
    }


    /**
     * A cancelled call (deadline passed, client gone) cancels its pending reply, which forgets the
     * waiter. gRPC takes the handler only on the call's own thread, before the handler returns, so it is
     * set now and the reply, which may come into being later (after an ownership check), is handed over.
     */
    static Consumer<CompletableFuture<Reply>> forgetOnCancel(StreamObserver<?> out) {
        AtomicReference<CompletableFuture<Reply>> pending = new AtomicReference<>();
        AtomicBoolean cancelled = new AtomicBoolean();
        if (!(out instanceof ServerCallStreamObserver<?> call)) {
            return reply -> { }; // answered on an agent stream: that stream's end cancels nothing
        }
        call.setOnCancelHandler(() -> {
            cancelled.set(true);
            CompletableFuture<Reply> reply = pending.get();
            if (reply != null) {
                reply.cancel(false);
            }
        });
        return reply -> {
            pending.set(reply);
            if (cancelled.get()) {
                reply.cancel(false);
            }
        };
    }

    /**
     * Writes the reply as the response {@code toResponse} makes of it, or, when it makes none (the
     * core refused), as the matching gRPC status.
     */
    static <T> void answer(StreamObserver<T> out, CallName call, CompletableFuture<Reply> pending, Function<Reply, T> toResponse) {
        pending.whenComplete((reply, error) -> {
            if (error != null) {
                fail(out, call, error);
                return;
            }
            T response = toResponse.apply(reply);
            if (response != null) {
                send(out, response);
            } else if (reply instanceof Reply.Rejected rejected) {
                refuse(out, call, Protos.status(rejected.code()).withDescription(rejected.message()));
            } else {
                log.error("{}: unexpected reply {}", call, reply);
                refuse(out, call, Status.INTERNAL.withDescription("unexpected reply from the coordinator"));
            }
        });
    }

    static <T> void fail(StreamObserver<T> out, CallName call, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof CancellationException) {
            return; // the caller cancelled; nobody is listening
        }
        if (cause instanceof CoordinatorUnavailableException unavailable) {
            refuse(out, call, (unavailable.overloaded() ? Status.RESOURCE_EXHAUSTED : Status.UNAVAILABLE)
                    .withDescription(unavailable.getMessage()));
            return;
        }
        log.error("{} failed", call, cause);
        refuse(out, call, Status.INTERNAL.withDescription("internal error; see the server log"));
    }

    static <T> void send(StreamObserver<T> out, T response) {
        try {
            out.onNext(response);
            out.onCompleted();
        } catch (RuntimeException e) {
            log.debug("answer not delivered (call gone): {}", e.toString());
        }
    }

    static <T> void refuse(StreamObserver<T> out, CallName call, Status status) {
        log.info("{} refused: {} {}", call, status.getCode(), status.getDescription());
        try {
            out.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
            log.debug("refusal not delivered (call gone): {}", e.toString());
        }
    }

    /**
     * "Method from peer", for log lines. Taken on the gRPC thread that carries the call's context (the
     * answer is written on another one), and formatted only when a line is logged: most calls log nothing.
     */
    record CallName(String method, SocketAddress peer) {
        @Override
        public String toString() {
            return method + " from " + (peer == null ? "unknown peer" : peer);
        }
    }

    static CallName call(String method) {
        return new CallName(method, AuthInterceptor.PEER.get());
    }

    static String peer() {
        SocketAddress peer = AuthInterceptor.PEER.get();
        return peer == null ? "unknown peer" : peer.toString();
    }
}
