package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The group commit both stores share, driven directly with a scripted {@link GroupCommitWriter.BatchWriter}
 * whose every batch waits for the test's permit: batching, the one failure rule, and the lifecycle.
 */
class GroupCommitWriterTest {
    private final ScriptedBatches batches = new ScriptedBatches();
    private GroupCommitWriter writer;

    @AfterEach
    void close() {
        batches.gate.release(1_000);
        if (writer != null) {
            writer.close();
        }
    }

    @Test
    void appendsQueuedWhileABatchIsWrittenGoTogetherInTheNextBatch() throws Exception {
        // What group commit is for: while one batch is on its way to the store, later appends gather
        // and then share one write, and every future completes only after its own batch was written.
        writer = open(100, 1_000);
        CompletableFuture<Void> first = append("g1");
        batches.awaitWriting(1);
        List<CompletableFuture<Void>> gathered = List.of(append("g2"), append("g3"), append("g4"));
        assertThat(first).as("not acknowledged before the batch writer returned").isNotDone();

        batches.gate.release(2);
        first.get(5, TimeUnit.SECONDS);
        CompletableFuture.allOf(gathered.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        assertThat(batches.written).containsExactly(List.of("g1"), List.of("g2", "g3", "g4"));
        assertThat(writer.batches()).isEqualTo(2);
        assertThat(writer.appends()).isEqualTo(4);
        assertThat(writer.recordsWritten()).isEqualTo(4);
    }

    @Test
    void aBatchIsBoundedByItsAppendCount() throws Exception {
        // A backlog is written in pieces of the configured size, in append order.
        writer = open(100, 2);
        CompletableFuture<Void> first = append("g1");
        batches.awaitWriting(1);
        List<CompletableFuture<Void>> backlog = List.of(append("g2"), append("g3"), append("g4"), append("g5"), append("g6"));
        batches.gate.release(4);
        first.get(5, TimeUnit.SECONDS);
        CompletableFuture.allOf(backlog.toArray(CompletableFuture[]::new)).get(5, TimeUnit.SECONDS);
        assertThat(batches.written).containsExactly(List.of("g1"), List.of("g2", "g3"), List.of("g4", "g5"), List.of("g6"));
    }

    @Test
    void aFailedBatchFailsEveryWaiterAndTheLogRefusesLaterAppends() throws Exception {
        // One rule: the batch being written and everything queued behind it fail with the same
        // exception, and from then on the log acknowledges nothing.
        writer = open(100, 1);
        CompletableFuture<Void> inBatch = append("g1");
        batches.awaitWriting(1);
        CompletableFuture<Void> queued = append("g2");
        batches.failNext = new IOException("EIO from the disk");
        batches.gate.release(1);

        Throwable batchError = failure(inBatch);
        assertThat(batchError).isInstanceOf(TxnLogException.class).hasMessageContaining("scripted failure").hasRootCauseMessage("EIO from the disk");
        assertThat(failure(queued)).as("the queued append fails with the batch's exception").isSameAs(batchError);
        assertThat(batches.failures).as("the batch writer describes the failure once").hasSize(1);

        Throwable later = failure(append("g3"));
        assertThat(later).isInstanceOf(TxnLogException.class).hasMessageContaining("failed earlier").hasCause(batchError);
        assertThat(batches.written).as("nothing after the failure reaches the batch writer").isEmpty();
    }

    @Test
    void closeWritesWhatWasAcceptedThenRefusesAppends() throws Exception {
        // A clean close drains: what was accepted before it is written, the batch writer hears it is
        // drained once, and an append after the close is a caller's error.
        writer = open(100, 1_000);
        CompletableFuture<Void> first = append("g1");
        batches.awaitWriting(1);
        CompletableFuture<Void> queued = append("g2");
        CompletableFuture<Boolean> closed = CompletableFuture.supplyAsync(writer::close);
        Thread.sleep(50);
        assertThat(closed).as("close waits for the writer").isNotDone();
        batches.gate.release(2);

        assertThat(closed.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(first).isCompleted();
        assertThat(queued).isCompleted();
        assertThat(batches.drained).isEqualTo(1);
        assertThatThrownBy(() -> append("g3")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThat(writer.close()).as("a second close does nothing").isFalse();
    }

    @Test
    void anAppendWaitingForRoomIsReleasedByCloseAndRefused() throws Exception {
        // The queue holds one append; a second caller waits for room. Closing wakes it, and it is
        // refused as an append after close, never queued behind the drain.
        writer = open(1, 1_000);
        append("g1");
        batches.awaitWriting(1);
        append("g2"); // fills the queue
        CountDownLatch waiting = new CountDownLatch(1);
        CompletableFuture<Throwable> blocked = CompletableFuture.supplyAsync(() -> {
            waiting.countDown();
            try {
                append("g3");
                return null;
            } catch (RuntimeException e) {
                return e;
            }
        });
        waiting.await();
        Thread.sleep(50);
        assertThat(blocked).as("waiting for room").isNotDone();
        CompletableFuture<Boolean> closed = CompletableFuture.supplyAsync(writer::close);
        assertThat(blocked.get(5, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        batches.gate.release(2);
        assertThat(closed.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(batches.written).containsExactly(List.of("g1"), List.of("g2"));
    }

    @Test
    void aFullQueueFailsTheCallerAfterTheStallTimeout() {
        // The caller is the coordinator's loop: it may wait for room, but not forever.
        writer = new GroupCommitWriter(new GroupCommitWriter.Settings("test log", 1, Duration.ofMillis(100), "the test's store hangs", 1_000, Long.MAX_VALUE,
                0, 5_000), batches);
        writer.open(() -> null);
        append("g1");
        batches.awaitWriting(1);
        append("g2");
        assertThatThrownBy(() -> append("g3")).isInstanceOf(TxnLogException.class)
                .hasMessageContaining("has had 1 appends queued for 100 ms").hasMessageContaining("the test's store hangs");
        assertThat(writer.oldestPendingSince()).as("the stalled batch is what the watchdog sees").isPresent();
    }

    @Test
    void aLogThatFailsWhileClosingStaysClosed() throws Exception {
        // The one state rule: a failure turns an open log into a failed one; a closed log stays closed,
        // so an append after close() is refused as such whatever happened during the drain.
        writer = open(100, 1_000);
        CompletableFuture<Void> first = append("g1");
        batches.awaitWriting(1);
        batches.failNext = new IOException("EIO while draining");
        CompletableFuture<Boolean> closed = CompletableFuture.supplyAsync(writer::close);
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            try {
                append("late");
                return false;
            } catch (IllegalStateException e) {
                return true;
            }
        });
        batches.gate.release(1);
        assertThat(closed.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(failure(first)).hasRootCauseMessage("EIO while draining");
        assertThatThrownBy(() -> append("g2")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }

    @Test
    void beforeOpenAppendsAreRefusedAndARecoveryThatThrowsLeavesTheLogClosed() {
        // open() runs the store's recovery under the writer's lock; if it throws, no writer starts.
        writer = open(100, 1_000, false);
        assertThatThrownBy(() -> append("g1")).isInstanceOf(IllegalStateException.class).hasMessageContaining("before open()");
        assertThatThrownBy(() -> writer.open(() -> {
            throw new TxnLogException("bad directory");
        })).hasMessage("bad directory");
        assertThat(writer.wasOpened()).isFalse();
        assertThatThrownBy(() -> append("g1")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
        assertThatThrownBy(() -> writer.open(() -> null)).isInstanceOf(IllegalStateException.class);
    }

    // ---------------------------------------------------------------- helpers

    private GroupCommitWriter open(int pendingAppendsMax, int batchAppendsMax) {
        return open(pendingAppendsMax, batchAppendsMax, true);
    }

    private GroupCommitWriter open(int pendingAppendsMax, int batchAppendsMax, boolean open) {
        GroupCommitWriter w = new GroupCommitWriter(new GroupCommitWriter.Settings("test log", pendingAppendsMax, Duration.ofSeconds(5),
                "the test's store hangs", batchAppendsMax, Long.MAX_VALUE, 0, 5_000), batches);
        if (open) {
            w.open(() -> null);
        }
        return w;
    }

    private CompletableFuture<Void> append(String gtrid) {
        return writer.append(List.of(new LogRecord.Completed(gtrid)), List.of(new byte[0]), 1, true);
    }

    private static Throwable failure(CompletableFuture<Void> future) {
        try {
            future.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError("the append did not fail in time", e);
        }
        throw new AssertionError("the append succeeded");
    }

    /** Each batch waits for one permit of {@link #gate}, then succeeds or throws {@link #failNext}. */
    private static final class ScriptedBatches implements GroupCommitWriter.BatchWriter {
        final Semaphore gate = new Semaphore(0);
        final Semaphore writing = new Semaphore(0);
        final List<List<String>> written = new CopyOnWriteArrayList<>();
        final List<Throwable> failures = new CopyOnWriteArrayList<>();
        volatile Exception failNext;
        volatile int drained;

        @Override
        public void write(List<GroupCommitWriter.Append> batch) throws Exception {
            writing.release();
            gate.acquire();
            Exception fail = failNext;
            if (fail != null) {
                failNext = null;
                throw fail;
            }
            written.add(batch.stream().map(a -> a.records().get(0).gtrid()).toList());
        }

        @Override
        public void drained() {
            drained++;
        }

        @Override
        public TxnLogException failure(Throwable cause) {
            failures.add(cause);
            return new TxnLogException("scripted failure: " + cause, cause);
        }

        void awaitWriting(int batches) {
            try {
                assertThat(writing.tryAcquire(batches, 5, TimeUnit.SECONDS)).as("the writer took the batch").isTrue();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
