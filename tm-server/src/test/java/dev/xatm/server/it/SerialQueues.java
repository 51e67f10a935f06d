package dev.xatm.server.it;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * One queue of tasks per key on a shared pool: a branch's XA calls run one after the other, in the
 * order the participant core asked for them, different branches' in parallel (one slow database call
 * never holds up the others). Thread-safe.
 */
final class SerialQueues {
    private static final Logger log = LoggerFactory.getLogger(SerialQueues.class);

    private final ExecutorService workers;
    private final ConcurrentHashMap<Object, CompletableFuture<Void>> tails = new ConcurrentHashMap<>();

    SerialQueues(ExecutorService workers) {
        this.workers = workers;
    }

    /** Runs {@code task} after every task submitted for {@code key} before it; a failing task is logged and ends there. */
    void submit(Object key, Runnable task) {
        tails.compute(key, (k, prev) -> {
            CompletableFuture<Void> before = prev == null ? CompletableFuture.completedFuture(null) : prev;
            try {
                return before.thenRunAsync(() -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.error("a task for {} failed", key, e);
                    }
                }, workers);
            } catch (RejectedExecutionException dead) {
                return before; // the agent crashed or closed: nothing runs any more
            }
        });
    }

    /** True when nothing submitted for {@code key} is waiting or running. */
    boolean idle(Object key) {
        CompletableFuture<Void> tail = tails.get(key);
        return tail == null || tail.isDone();
    }
}
