package dev.xatm.client.agent;

import dev.xatm.protocol.v1.AgentMessage;
import dev.xatm.protocol.v1.CommitAnswer;
import dev.xatm.protocol.v1.CommitBatch;
import dev.xatm.protocol.v1.CommitRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * The commit requests one link carries on its Connect stream, and the callers waiting for their
 * answers. A calling thread queues its request and then sends, in one CommitBatch, every request
 * queued so far, unless another thread is sending already: that one takes the new request along
 * before it lets go. So the requests of threads ready at the same moment share one message, with no
 * timer and no extra thread (group commit on the wire).
 *
 * <p>Answers come back keyed by gtrid; a gtrid has at most one request waiting. When the stream
 * breaks, every waiting caller is told so at once: whether the server decided is then unknown, as
 * for a Commit call whose answer was lost. Thread-safe.
 */
final class StreamCommits {
    /** Requests per message at most: a burst is split rather than sent as one large frame. */
    static final int BATCH_MAX = 256;

    /** The stream broke (or was never there) while a commit request waited for its answer. */
    static final class StreamLost extends RuntimeException {
        final boolean sent;

        StreamLost(String message, boolean sent) {
            super(message, null, false, false);
            this.sent = sent;
        }
    }

    private final Map<String, CompletableFuture<CommitAnswer>> waiting = new ConcurrentHashMap<>();
    private final Queue<CommitRequest> queued = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();

    /**
     * Queues {@code request} and sends what is queued through {@code send} (false: no open stream).
     * The future completes with the server's answer, or with {@link StreamLost}.
     */
    CompletableFuture<CommitAnswer> submit(CommitRequest request, Predicate<AgentMessage> send) {
        CompletableFuture<CommitAnswer> answer = new CompletableFuture<>();
        if (waiting.putIfAbsent(request.getGtrid(), answer) != null) {
            throw new IllegalStateException("a commit request for " + request.getGtrid() + " is already waiting for its answer");
        }
        queued.add(request);
        // Whoever holds "sending" re-checks the queue after letting go, so a request queued meanwhile
        // is never left behind.
        while (!queued.isEmpty() && sending.compareAndSet(false, true)) {
            try {
                sendQueued(send);
            } finally {
                sending.set(false);
            }
        }
        return answer;
    }

    private void sendQueued(Predicate<AgentMessage> send) {
        List<CommitRequest> batch = new ArrayList<>();
        CommitRequest next;
        while (batch.size() < BATCH_MAX && (next = queued.poll()) != null) {
            batch.add(next);
        }
        if (batch.isEmpty()) {
            return;
        }
        if (!send.test(AgentMessage.newBuilder().setCommits(CommitBatch.newBuilder().addAllRequests(batch)).build())) {
            for (CommitRequest r : batch) {
                fail(r.getGtrid(), new StreamLost("the stream closed before the commit request left", false));
            }
        }
    }

    /** The server's answer to one request. */
    void answered(CommitAnswer answer) {
        CompletableFuture<CommitAnswer> f = waiting.remove(answer.getGtrid());
        if (f != null) {
            f.complete(answer);
        }
    }

    /** The caller stopped waiting (its deadline passed); a late answer is then dropped. */
    void abandon(String gtrid) {
        waiting.remove(gtrid);
    }

    /** The stream ended: every waiting caller hears it now rather than at its deadline. */
    void streamLost(String why) {
        for (String gtrid : List.copyOf(waiting.keySet())) {
            fail(gtrid, new StreamLost("the stream broke before the answer came (" + why + ")", true));
        }
    }

    int waitingCount() {
        return waiting.size();
    }

    private void fail(String gtrid, StreamLost e) {
        CompletableFuture<CommitAnswer> f = waiting.remove(gtrid);
        if (f != null) {
            f.completeExceptionally(e);
        }
    }
}
