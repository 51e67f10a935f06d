package dev.xatm.coordinator.engine;

import dev.xatm.core.Branch;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.protocol.ClusterId;
import dev.xatm.coordinator.log.TxnLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A store that heals by itself (the JDBC store while its database is down or hangs) stalls without
 * halting the node: once its oldest append has waited the stall timeout, new work is refused with
 * UNAVAILABLE and the health endpoint shows the store DOWN, while ticks, rollbacks and phase 2 go on;
 * when the write goes through, new work is taken again.
 */
class StoreStallTest {
    private static final Duration STALL = Duration.ofMillis(400);

    private final List<Integer> halts = new CopyOnWriteArrayList<>();
    private final AtomicInteger ticks = new AtomicInteger();
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final HeldStore store = new HeldStore();
    private CoordinatorLoop loop;

    /** Stands in for the core: Begin answers Begun, a commit decides at once (a synced Decision). */
    private final StateMachine core = new StateMachine() {
        @Override
        public Effects step(Event event) {
            events.add(event);
            if (event instanceof Event.Tick) {
                ticks.incrementAndGet();
            }
            if (event instanceof Event.Begin b) {
                return new Effects.Builder().reply(new Reply.Begun(b.gtrid(), b.deadlineMillis())).build();
            }
            if (event instanceof Event.CommitRequested c) {
                return new Effects.Builder().append(new LogRecord.Decision(c.gtrid(), "n", List.of(new Branch("b1", "db", "agent-1")))).build();
            }
            return Effects.none();
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

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.stop();
        }
    }

    @Test
    void aStalledStoreRefusesNewWorkWithUnavailableAndRecoversWithoutHalting() throws Exception {
        loop = new CoordinatorLoop((records, now) -> core, store, new NoAgents(), MonotonicClock.system(), halts::add, 10, 100,
                CrashSwitch.NONE, STALL);
        loop.start();
        CoordinatorHealthIndicator health = new CoordinatorHealthIndicator(loop, 10);
        assertThat(loop.begin("g-0", "n", 10_000).get(5, TimeUnit.SECONDS)).isInstanceOf(Reply.Begun.class);

        loop.commit("g-1", false); // its Decision never gets written while the store hangs
        await().atMost(Duration.ofSeconds(5)).until(() -> loop.snapshot().storeStalled());

        assertThat(refusal(loop.begin("g-2", "n", 10_000)))
                .isInstanceOfSatisfying(CoordinatorUnavailableException.class, e -> assertThat(e.overloaded()).as("UNAVAILABLE, not RESOURCE_EXHAUSTED").isFalse())
                .hasMessageContaining("transaction store has not completed a write");
        assertThat(refusal(loop.commit("g-3", false))).isInstanceOf(CoordinatorUnavailableException.class);
        Health down = health.health();
        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
        assertThat(down.getDetails()).containsEntry("store", "UNAVAILABLE").containsEntry("logFailed", false);
        assertThat((Long) down.getDetails().get("storePendingMillis")).isGreaterThanOrEqualTo(STALL.toMillis());

        // the loop itself is not frozen: ticks go on and a rollback (no durable record needed) is taken
        int ticksNow = ticks.get();
        loop.rollback("g-0");
        await().atMost(Duration.ofSeconds(5)).until(() -> ticks.get() > ticksNow + 5
                && events.contains(new Event.RollbackRequested("g-0")));
        assertThat(halts).isEmpty();

        store.writeEverything();
        await().atMost(Duration.ofSeconds(5)).until(() -> !loop.snapshot().storeStalled());
        assertThat(loop.begin("g-4", "n", 10_000).get(5, TimeUnit.SECONDS)).isInstanceOf(Reply.Begun.class);
        assertThat(health.health().getStatus()).isEqualTo(Status.UP);
        assertThat(events).contains(new Event.DecisionDurable("g-1"));
        assertThat(halts).isEmpty();
    }

    private static Throwable refusal(CompletableFuture<?> reply) {
        try {
            reply.get(5, TimeUnit.SECONDS);
            throw new AssertionError("expected a refusal, got " + reply.join());
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Takes appends and writes none of them until told to, like a database that hangs; heals by itself. */
    private static final class HeldStore implements TxnLog {
        private record Held(long since, CompletableFuture<Void> future) {}

        private final List<Held> held = new CopyOnWriteArrayList<>();

        void writeEverything() {
            held.forEach(h -> h.future().complete(null));
        }

        @Override
        public OptionalLong oldestPendingSince() {
            return held.stream().filter(h -> !h.future().isDone()).mapToLong(Held::since).min();
        }

        @Override
        public StallPolicy stallPolicy() {
            return StallPolicy.REFUSE_NEW_WORK;
        }

        @Override
        public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
            Held h = new Held(System.nanoTime(), new CompletableFuture<>());
            held.add(h);
            return h.future();
        }

        @Override
        public ClusterId clusterId(Optional<ClusterId> configured) {
            return configured.orElse(new ClusterId("test1234"));
        }

        @Override
        public List<LogRecord> open() {
            return List.of();
        }

        @Override
        public void close() {
        }
    }

    private static final class NoAgents implements AgentOutbox {
        @Override
        public void send(Outbound command) {
        }

        @Override
        public int connectedAgents() {
            return 0;
        }
    }
}
