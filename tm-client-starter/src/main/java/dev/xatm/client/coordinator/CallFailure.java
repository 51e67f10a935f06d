package dev.xatm.client.coordinator;

import io.grpc.Status;

import java.util.Locale;

/**
 * What happened to a call that got no answer, in words an operator can act on, with the time it took:
 * a refused connection after 3 ms (nothing listens: the server is down or restarting) is not a server
 * that stayed silent for the whole deadline, and a stream that broke mid-call (the server stopped or
 * crashed while deciding) is neither. gRPC reports all three as UNAVAILABLE or DEADLINE_EXCEEDED; the
 * description and the cause tell them apart. Pure and thread-safe.
 */
final class CallFailure {
    private CallFailure() {}

    /**
     * E.g. "refused the connection after 4 ms (UNAVAILABLE: nothing listens there, tm-server is down or restarting)".
     * Reads as the continuation of a sentence that names the server.
     */
    static String whatHappened(String call, Status status, long elapsedMillis, long deadlineMillis) {
        String text = text(status);
        return switch (status.getCode()) {
            case DEADLINE_EXCEEDED -> "did not answer the " + call + " within its deadline of " + deadlineMillis + " ms (DEADLINE_EXCEEDED"
                    + " after " + elapsedMillis + " ms)";
            case UNAVAILABLE -> {
                if (text.contains("connection refused")) {
                    yield "refused the connection after " + elapsedMillis + " ms (UNAVAILABLE: nothing listens there, tm-server is down"
                            + " or restarting), so the " + call + " was not delivered";
                }
                if (text.contains("closed") || text.contains("goaway") || text.contains("rst_stream") || text.contains("reset")) {
                    yield "closed the connection " + elapsedMillis + " ms into the " + call + " (UNAVAILABLE: tm-server stopped, crashed"
                            + " or restarted while handling it; " + status.getDescription() + ")";
                }
                yield "was unreachable after " + elapsedMillis + " ms for the " + call + " (UNAVAILABLE: " + status.getDescription() + ")";
            }
            default -> "failed the " + call + " after " + elapsedMillis + " ms (" + status.getCode() + " " + status.getDescription() + ")";
        };
    }

    /** The description and the cause chain, lower case, for matching. */
    private static String text(Status status) {
        StringBuilder s = new StringBuilder(String.valueOf(status.getDescription()));
        for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
            s.append(' ').append(t.getClass().getSimpleName()).append(' ').append(t.getMessage());
        }
        return s.toString().toLowerCase(Locale.ROOT);
    }
}
