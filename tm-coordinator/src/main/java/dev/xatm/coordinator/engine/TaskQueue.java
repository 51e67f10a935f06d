package dev.xatm.coordinator.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The {@link CoordinatorLoop}'s inbox. Client requests and agent messages share a bound
 * ({@code queueCapacity}): beyond it they are refused at once, never queued, so an overload shows as
 * UNAVAILABLE instead of growing memory. Events that must not be lost (durable decisions, agent
 * (dis)connections, ticks, adoptions) bypass the bound; there are few of them by construction.
 *
 * <p>Thread-safety: any thread may queue; the loop thread alone takes. Once the loop stops, queued
 * tasks are dropped, and a dropped request's caller hears that the coordinator stopped.
 */
final class TaskQueue {

    /** One unit of loop work; {@code drop} runs instead of {@code work} when the loop stopped first. */
    record Task(Runnable work, boolean request, Runnable drop) {}

    private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger queuedRequests = new AtomicInteger();
    private final int capacity;
    private final BooleanSupplier running;

    TaskQueue(int capacity, BooleanSupplier running) {
        this.capacity = capacity;
        this.running = running;
    }

    /** A request whose {@code reply} fails at once when the queue is full or the loop stopped. */
    void submit(CompletableFuture<?> reply, Runnable work) {
        Task task = new Task(work, true, () -> reply.completeExceptionally(CoordinatorUnavailableException.stopped()));
        if (!enqueue(task)) {
            reply.completeExceptionally(running.getAsBoolean()
                    ? CoordinatorUnavailableException.overloaded(capacity)
                    : CoordinatorUnavailableException.stopped());
        }
    }

    /** False when the task was refused: a request beyond the bound, or the loop stopped. */
    boolean enqueue(Task task) {
        if (!running.getAsBoolean()) {
            return false;
        }
        if (task.request() && queuedRequests.incrementAndGet() > capacity) {
            queuedRequests.decrementAndGet();
            return false;
        }
        queue.add(task);
        if (!running.getAsBoolean()) {
            dropQueued(); // raced with stop(): nobody will take it any more
        }
        return true;
    }

    /** Work of the coordinator's own (outside the bound); dropped silently once the loop stopped. */
    void enqueueInternal(Runnable work) {
        enqueue(new Task(work, false, () -> {}));
    }

    /** The loop thread's next task; waits for one. */
    Task take() throws InterruptedException {
        Task task = queue.take();
        if (task.request()) {
            queuedRequests.decrementAndGet();
        }
        return task;
    }

    void dropQueued() {
        Task t;
        while ((t = queue.poll()) != null) {
            if (t.request()) {
                queuedRequests.decrementAndGet();
            }
            t.drop().run();
        }
    }

    int queuedRequests() {
        return queuedRequests.get();
    }
}
