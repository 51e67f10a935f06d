package dev.xatm.client.agent;

import dev.xatm.protocol.v1.Ack;
import dev.xatm.protocol.v1.AckBatch;
import dev.xatm.protocol.v1.AgentMessage;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * Collects the DONE acks of the callers' own commits for {@link #BATCH_MILLIS} and sends them as one
 * message per server: nobody waits for these acks (the coordinator only stops resending), and one
 * message for many transactions costs the stream, both processes and the lock on the stream far less
 * than one each. Thread-safe: any thread adds; one timer thread sends.
 */
final class AckBatcher implements AutoCloseable {
    /** How long the acks are collected before they go out in one message. */
    static final long BATCH_MILLIS = 5;
    static final int BATCH_MAX = 500;

    private final Function<String, ServerLink> serving;
    private final Queue<Ack> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean flushQueued = new AtomicBoolean();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tm-agent-acks");
        t.setDaemon(true);
        return t;
    });

    /** @param serving the link to the server that owns a gtrid, null while none is connected */
    AckBatcher(Function<String, ServerLink> serving) {
        this.serving = serving;
    }

    void add(Ack ack) {
        pending.add(ack);
        if (flushQueued.compareAndSet(false, true)) {
            try {
                timer.schedule(this::flush, BATCH_MILLIS, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                flushQueued.set(false); // closed: close() flushes what is left
            }
        }
    }

    /**
     * Sends the collected acks to the servers that own their gtrids, at most {@link #BATCH_MAX} per
     * message. One whose owner is not connected is dropped: a lost ack only means a resent COMMIT.
     */
    private void flush() {
        flushQueued.set(false);
        Map<ServerLink, AckBatch.Builder> batches = new LinkedHashMap<>();
        for (Ack a = pending.poll(); a != null; a = pending.poll()) {
            ServerLink link = serving.apply(a.getGtrid());
            if (link == null) {
                continue;
            }
            AckBatch.Builder batch = batches.computeIfAbsent(link, l -> AckBatch.newBuilder());
            batch.addAcks(a);
            if (batch.getAcksCount() == BATCH_MAX) {
                link.send(AgentMessage.newBuilder().setAcks(batch).build());
                batches.remove(link);
            }
        }
        batches.forEach((link, batch) -> link.send(AgentMessage.newBuilder().setAcks(batch).build()));
    }

    /** Stops the timer and sends what is left, on the streams that are still open. */
    @Override
    public void close() {
        timer.shutdownNow();
        flush();
    }
}
