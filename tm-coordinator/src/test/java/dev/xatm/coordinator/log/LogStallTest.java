package dev.xatm.coordinator.log;

import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.Outbound;
import dev.xatm.core.TxnStatus;
import dev.xatm.coordinator.engine.AgentOutbox;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.engine.CrashSwitch;
import dev.xatm.coordinator.engine.MonotonicClock;
import dev.xatm.coordinator.engine.StateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.xatm.coordinator.log.LogTestSupport.BIG_SEGMENTS;
import static dev.xatm.coordinator.log.LogTestSupport.decision;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A file log whose fsync never returns must not freeze the coordinator silently: the loop keeps
 * ticking, and the node halts once the oldest append has waited the stall timeout; an append that
 * finds the queue full waits no longer than that either.
 */
class LogStallTest {
    private static final Duration STALL = Duration.ofMillis(500);
    /** The loop's exit status when it halts itself (CoordinatorLoop.HALT_STATUS). */
    private static final int HALT_STATUS = 70;

    @TempDir
    Path tmp;

    private final GatedForcer forcer = new GatedForcer();
    private final List<Integer> halts = new CopyOnWriteArrayList<>();
    private final AtomicInteger ticks = new AtomicInteger();

    /** Stands in for the core: a commit request decides at once (a synced Decision); ticks are counted. */
    private final StateMachine core = new StateMachine() {
        @Override
        public Effects step(Event event) {
            if (event instanceof Event.Tick) {
                ticks.incrementAndGet();
            }
            return event instanceof Event.CommitRequested c ? new Effects.Builder().append(decision(c.gtrid())).build() : Effects.none();
        }

        @Override
        public TxnStatus status(String gtrid) {
            return TxnStatus.UNKNOWN;
        }

        @Override
        public int liveCount() {
            return 0;
        }
    };

    private static final AgentOutbox NO_AGENTS = new AgentOutbox() {
        @Override
        public void send(Outbound command) {
        }

        @Override
        public int connectedAgents() {
            return 0;
        }
    };

    @Test
    void aHungFsyncHaltsTheNodeWithinTheStallTimeoutWhileTicksKeepRunning() throws Exception {
        FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS.withStallTimeout(STALL), forcer);
        CoordinatorLoop loop = new CoordinatorLoop((records, now) -> core, log, NO_AGENTS, MonotonicClock.system(), halts::add,
                10, 100, CrashSwitch.NONE, STALL);
        loop.start();
        try {
            forcer.holdNext(null);
            long start = System.nanoTime();
            CompletableFuture<?> commit = loop.commit("g-1", false);
            forcer.awaitHeld();
            int ticksWhenHung = ticks.get();

            await().atMost(Duration.ofSeconds(5)).until(() -> !halts.isEmpty());
            long haltedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(halts).containsExactly(HALT_STATUS);
            assertThat(haltedAfterMillis).as("not before the bound, and soon after it").isBetween(STALL.toMillis(), 3_000L);
            assertThat(ticks.get()).as("ticks went on while the fsync hung").isGreaterThan(ticksWhenHung + 5);
            assertThat(loop.snapshot().logFailed()).isTrue();
            assertThat(commit).as("the commit was never acknowledged").isNotDone();
        } finally {
            forcer.release();
            loop.stop();
            log.close();
        }
    }

    @Test
    void anAppendWaitsForRoomInAFullQueueAtMostTheStallTimeout() throws Exception {
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS.withPendingAppendsMax(1).withStallTimeout(STALL), forcer)) {
            log.open();
            forcer.holdNext(null);
            log.append(List.of(decision("g-1")), true);
            forcer.awaitHeld(); // the writer holds g-1 in its hung fsync
            log.append(List.of(decision("g-2")), true); // fills the queue
            try {
                CompletableFuture<Void> third = CompletableFuture.runAsync(() -> log.append(List.of(decision("g-3")), true));
                assertThatThrownBy(() -> third.get(5, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(TxnLogException.class)
                        .hasMessageContaining("tm.server.log.stall-timeout")
                        .hasMessageContaining("does not complete writes or fsyncs");
                assertThat(log.oldestPendingSince()).isPresent();
            } finally {
                forcer.release();
            }
        }
    }

    @Test
    void theOldestPendingAppendIsReportedUntilItsFsyncReturns() throws Exception {
        try (FileTxnLog log = new FileTxnLog(tmp.resolve("data"), BIG_SEGMENTS, forcer)) {
            log.open();
            assertThat(log.oldestPendingSince()).isEmpty();
            forcer.holdNext(null);
            long before = System.nanoTime();
            CompletableFuture<Void> written = log.append(List.of(decision("g-1")), true);
            forcer.awaitHeld();
            assertThat(log.oldestPendingSince().orElseThrow()).isGreaterThanOrEqualTo(before);
            forcer.release();
            written.get(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(5)).until(() -> log.oldestPendingSince().isEmpty());
        }
    }

}
