package dev.xatm.coordinator.engine;

import dev.xatm.protocol.ClusterId;
import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.coordinator.cluster.Takeovers;
import dev.xatm.coordinator.log.TxnLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The loop's own obligations, against a scripted core, a controllable log and a recording outbox:
 * the order in which it carries out effects, how replies find their callers, and what it does when
 * the log or the core fails. The protocol rules themselves are tm-core's tests.
 */
class CoordinatorLoopTest {
    private static final long NO_TICKS = TimeUnit.HOURS.toMillis(1);
    private static final Branch B1 = new Branch("b1", "db-0", "agent-1");

    private final List<String> journal = Collections.synchronizedList(new ArrayList<>());
    private final ScriptedCore core = new ScriptedCore();
    private final ControlledLog txnLog = new ControlledLog();
    private final RecordingOutbox outbox = new RecordingOutbox();
    private final AtomicLong clock = new AtomicLong(1_000);
    private final List<Integer> halts = new CopyOnWriteArrayList<>();
    private CoordinatorLoop loop;

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.stop();
        }
    }

    private CoordinatorLoop start(long tickMillis, int queueCapacity) {
        loop = new CoordinatorLoop((records, now) -> {
            core.restoredFrom = records;
            core.restoredAt = now;
            return core;
        }, txnLog, txnLog, outbox, clock::get, halts::add, tickMillis, queueCapacity, CrashSwitch.NONE,
                CoordinatorLoop.STALL_TIMEOUT_DEFAULT);
        loop.start();
        return loop;
    }

    /** Every task queued before this one has run when it returns (the queue is FIFO). */
    private void drain() throws Exception {
        loop.status("barrier").get(5, TimeUnit.SECONDS);
    }

    @Test
    void effectsAreCarriedOutInOrder_logThenMessagesThenReplies() throws Exception {
        core.script = e -> e instanceof Event.Begin b
                ? new Effects.Builder()
                        .reply(new Reply.Begun(b.gtrid(), b.deadlineMillis()))
                        .send(new Outbound("agent-1", b.gtrid(), "b1", Action.PREPARE))
                        .append(new LogRecord.Decision(b.gtrid(), "n", List.of(B1)))
                        .build()
                : Effects.none();
        start(NO_TICKS, 100);
        CompletableFuture<Reply> begun = loop.begin("g1", "n", 5_000);
        begun.thenRun(() -> journal.add("reply"));

        assertThat(begun.get(5, TimeUnit.SECONDS)).isEqualTo(new Reply.Begun("g1", 6_000));
        drain();
        assertThat(journal).containsExactly("append sync=true [g1]", "send PREPARE g1/b1 -> agent-1", "reply");
    }

    @Test
    void beginDeadlineIsComputedOnTheLoopClock() throws Exception {
        start(NO_TICKS, 100);
        clock.set(42_000);
        loop.begin("g1", "n", 1_500);
        drain();
        assertThat(core.events).contains(new Event.Begin("g1", "n", 43_500));
    }

    @Test
    void decisionDurableIsFedBackOnlyAfterTheLogWriteCompletes() throws Exception {
        txnLog.completeAtOnce = false;
        core.script = e -> e instanceof Event.CommitRequested c
                ? new Effects.Builder().append(new LogRecord.Decision(c.gtrid(), "n", List.of(B1))).build()
                : e instanceof Event.DecisionDurable d
                ? new Effects.Builder().reply(new Reply.Decided(d.gtrid(), Outcome.COMMITTED)).build()
                : Effects.none();
        start(NO_TICKS, 100);
        CompletableFuture<Reply> commit = loop.commit("g1", false);
        drain();
        assertThat(core.events).doesNotHaveAnyElementsOfTypes(Event.DecisionDurable.class);
        assertThat(commit).isNotDone();

        txnLog.pending.get(0).complete(null);

        assertThat(commit.get(5, TimeUnit.SECONDS)).isEqualTo(new Reply.Decided("g1", Outcome.COMMITTED));
        assertThat(core.events).contains(new Event.DecisionDurable("g1"));
    }

    @Test
    void decidedAnswersCommitCallers_finishedAlsoThoseWaitingForCompletion() throws Exception {
        core.script = e -> {
            if (e instanceof Event.VoteReceived v) {
                return new Effects.Builder().reply(new Reply.Decided(v.gtrid(), Outcome.COMMITTED)).build();
            }
            if (e instanceof Event.AckReceived a) {
                return new Effects.Builder().reply(new Reply.Finished(a.gtrid(), Outcome.COMMITTED)).build();
            }
            return Effects.none();
        };
        start(NO_TICKS, 100);
        CompletableFuture<Reply> decisionOnly = loop.commit("g1", false);
        CompletableFuture<Reply> untilFinished = loop.commit("g1", true);
        CompletableFuture<Reply> otherTxn = loop.commit("g2", false);
        drain();
        assertThat(loop.snapshot().waitingCallers()).isEqualTo(3);

        loop.offerAgentMessage(new Event.VoteReceived("g1", "b1", Vote.YES, "a1"), r -> {});
        assertThat(decisionOnly.get(5, TimeUnit.SECONDS)).isEqualTo(new Reply.Decided("g1", Outcome.COMMITTED));
        drain();
        assertThat(untilFinished).isNotDone();

        loop.offerAgentMessage(new Event.AckReceived("g1", "b1", Action.COMMIT, AckResult.DONE, "a1"), r -> {});
        assertThat(untilFinished.get(5, TimeUnit.SECONDS)).isEqualTo(new Reply.Finished("g1", Outcome.COMMITTED));
        assertThat(otherTxn).isNotDone();
        drain();
        assertThat(loop.snapshot().waitingCallers()).isEqualTo(1);
    }

    @Test
    void aRejectionGoesToItsRequesterAndLeavesNoWaiter() throws Exception {
        core.script = e -> e instanceof Event.CommitRequested c
                ? new Effects.Builder().reply(new Reply.Rejected(c.gtrid(), RequestKind.COMMIT, ErrorCode.NOT_FOUND, "unknown")).build()
                : Effects.none();
        start(NO_TICKS, 100);
        assertThat(loop.commit("g1", true).get(5, TimeUnit.SECONDS))
                .isEqualTo(new Reply.Rejected("g1", RequestKind.COMMIT, ErrorCode.NOT_FOUND, "unknown"));
        drain();
        assertThat(loop.snapshot().waitingCallers()).isZero();
    }

    @Test
    void anAgentMessageRejectionGoesToThatAgentsCallback() throws Exception {
        core.script = e -> e instanceof Event.VoteReceived v
                ? new Effects.Builder().reply(new Reply.Rejected(v.gtrid(), RequestKind.VOTE, ErrorCode.NOT_FOUND, "no such branch")).build()
                : Effects.none();
        start(NO_TICKS, 100);
        List<Reply> got = new CopyOnWriteArrayList<>();
        assertThat(loop.offerAgentMessage(new Event.VoteReceived("g1", "b9", Vote.YES, "a1"), got::add)).isTrue();
        drain();
        assertThat(got).containsExactly(new Reply.Rejected("g1", RequestKind.VOTE, ErrorCode.NOT_FOUND, "no such branch"));
    }

    @Test
    void aCancelledCommitForgetsItsWaiter() throws Exception {
        start(NO_TICKS, 100);
        CompletableFuture<Reply> commit = loop.commit("g1", false);
        drain();
        assertThat(loop.snapshot().waitingCallers()).isEqualTo(1);

        commit.cancel(false);

        await().atMost(Duration.ofSeconds(5)).until(() -> loop.snapshot().waitingCallers() == 0);
    }

    @Test
    void aCommitCancelledWhileQueuedStillReachesTheCoreButLeavesNoWaiter() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        core.script = e -> {
            if (e instanceof Event.Begin) {
                inStep.countDown();
                awaitLatch(release);
            }
            return Effects.none();
        };
        start(NO_TICKS, 100);
        loop.begin("blocker", "n", 1_000);
        assertThat(inStep.await(5, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Reply> commit = loop.commit("g1", false);
        commit.cancel(false);
        release.countDown();
        drain();
        assertThat(core.events).contains(new Event.CommitRequested("g1"));
        assertThat(loop.snapshot().waitingCallers()).isZero();
    }

    @Test
    void aFailedLogWriteHaltsTheProcess() throws Exception {
        txnLog.completeAtOnce = false;
        core.script = e -> e instanceof Event.CommitRequested c
                ? new Effects.Builder().append(new LogRecord.Decision(c.gtrid(), "n", List.of(B1))).build()
                : Effects.none();
        start(NO_TICKS, 100);
        CompletableFuture<Reply> commit = loop.commit("g1", false);
        drain();

        txnLog.pending.get(0).completeExceptionally(new java.io.IOException("disk on fire"));

        assertThat(halts).containsExactly(CoordinatorLoop.HALT_STATUS);
        assertThat(loop.snapshot().logFailed()).isTrue();
        assertThat(core.events).doesNotHaveAnyElementsOfTypes(Event.DecisionDurable.class);
        assertThat(commit).isNotDone(); // never told "committed"
    }

    @Test
    void aCoreFailureHaltsTheProcess() {
        core.script = e -> {
            throw new IllegalStateException("illegal transition");
        };
        start(NO_TICKS, 100);
        loop.begin("g1", "n", 1_000);
        await().atMost(Duration.ofSeconds(5)).until(() -> !halts.isEmpty());
        assertThat(loop.snapshot().failed()).isTrue();
    }

    @Test
    void aFullQueueRefusesRequestsWithoutTouchingTheCore() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        core.script = e -> {
            if (e instanceof Event.Begin b && b.gtrid().equals("blocker")) {
                inStep.countDown();
                awaitLatch(release);
            }
            return Effects.none();
        };
        start(NO_TICKS, 1);
        loop.begin("blocker", "n", 1_000);
        assertThat(inStep.await(5, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Reply> queued = loop.begin("queued", "n", 1_000);
        CompletableFuture<Reply> refused = loop.begin("refused", "n", 1_000);

        assertThatThrownBy(() -> refused.get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(CoordinatorUnavailableException.class, e -> assertThat(e.overloaded()).isTrue());
        assertThat(loop.offerAgentMessage(new Event.VoteReceived("g", "b", Vote.YES, "a1"), r -> {})).isFalse();
        release.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> core.events.stream()
                .anyMatch(e -> e instanceof Event.Begin b && b.gtrid().equals("queued")));
        drain();
        assertThat(queued).isNotCompletedExceptionally();
        assertThat(core.events).noneMatch(e -> e instanceof Event.Begin b && b.gtrid().equals("refused"));
    }

    @Test
    void stoppingFailsWaitingCallers() throws Exception {
        start(NO_TICKS, 100);
        CompletableFuture<Reply> commit = loop.commit("g1", false);
        drain();
        loop.stop();
        assertThatThrownBy(() -> commit.get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(CoordinatorUnavailableException.class, e -> assertThat(e.overloaded()).isFalse());
        assertThatThrownBy(() -> loop.status("g1").get(5, TimeUnit.SECONDS)).cause()
                .isInstanceOf(CoordinatorUnavailableException.class);
    }

    @Test
    void startRestoresTheCoreFromTheDurableLog() {
        List<LogRecord> durable = List.of(
                new LogRecord.Decision("g1", "n", List.of(B1)),
                new LogRecord.Decision("g2", "n", List.of(B1)),
                new LogRecord.Completed("g1"));
        txnLog.initial = durable;
        clock.set(77);
        core.statuses.put("g2", TxnStatus.COMMITTING);
        start(NO_TICKS, 100);
        assertThat(core.restoredFrom).isEqualTo(durable);
        assertThat(core.restoredAt).isEqualTo(77);
        assertThat(loop.snapshot().liveTransactions()).isEqualTo(1); // the core's count, published for health
    }

    @Test
    void ticksCarryTheMonotonicClock() {
        start(10, 100);
        clock.set(5_000);
        await().atMost(Duration.ofSeconds(5)).until(() -> core.events.contains(new Event.Tick(5_000)));
        assertThat(loop.snapshot().running()).isTrue();
    }

    @Test
    void agentConnectionsBecomeEventsInOrder() throws Exception {
        start(NO_TICKS, 100);
        loop.agentConnected("a1");
        loop.agentDisconnected("a1");
        loop.agentConnected("a1");
        drain();
        assertThat(core.events).containsSubsequence(
                new Event.AgentConnected("a1"), new Event.AgentDisconnected("a1"), new Event.AgentConnected("a1"));
    }

    @Test
    void aTakenOverNodesRecordsReachTheCoreAsOneAdoptedEventOnTheLoopThread() throws Exception {
        LogRecord.Decision adopted = new LogRecord.Decision("g7", "n", List.of(B1));
        core.script = e -> {
            if (e instanceof Event.Adopted) {
                journal.add("adopted on " + Thread.currentThread().getName());
            }
            return Effects.none();
        };
        start(NO_TICKS, 100);
        assertThat(txnLog.adopter).as("the loop starts the store's takeovers once it runs").isNotNull();

        txnLog.adopter.adopt("node 1 (epoch 3)", List.of(adopted));
        drain();

        assertThat(core.events).contains(new Event.Adopted("node 1 (epoch 3)", List.of(adopted)));
        assertThat(journal).containsExactly("adopted on tm-coordinator-loop");
    }

    // ---------------------------------------------------------------- fakes

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class ScriptedCore implements StateMachine {
        final List<Event> events = new CopyOnWriteArrayList<>();
        final java.util.Map<String, TxnStatus> statuses = new java.util.concurrent.ConcurrentHashMap<>();
        volatile Function<Event, Effects> script = e -> Effects.none();
        volatile List<LogRecord> restoredFrom;
        volatile long restoredAt;

        @Override
        public Effects step(Event event) {
            events.add(event);
            return script.apply(event);
        }

        @Override
        public TxnStatus status(String gtrid) {
            return statuses.getOrDefault(gtrid, TxnStatus.UNKNOWN);
        }

        @Override
        public int liveCount() {
            return statuses.size();
        }
    }

    /** The log, and the takeovers of a shared store beside it (which the loop starts once it runs). */
    private final class ControlledLog implements TxnLog, Takeovers {
        volatile Adopter adopter;
        volatile boolean completeAtOnce = true;
        volatile List<LogRecord> initial = List.of();
        final List<CompletableFuture<Void>> pending = new CopyOnWriteArrayList<>();

        @Override
        public ClusterId clusterId(Optional<ClusterId> configured) {
            return configured.orElse(new ClusterId("test1234"));
        }

        @Override
        public List<LogRecord> open() {
            return initial;
        }

        @Override
        public CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
            journal.add("append sync=" + sync + " " + records.stream().map(LogRecord::gtrid).toList());
            CompletableFuture<Void> f = completeAtOnce ? CompletableFuture.completedFuture(null) : new CompletableFuture<>();
            pending.add(f);
            return f;
        }

        @Override
        public void start(Adopter adopter) {
            this.adopter = adopter;
        }

        @Override
        public void close() {
        }
    }

    private final class RecordingOutbox implements AgentOutbox {
        final AtomicInteger connected = new AtomicInteger();

        @Override
        public void send(Outbound m) {
            journal.add("send " + m.action() + " " + m.gtrid() + "/" + m.bqual() + " -> " + m.agentId());
        }

        @Override
        public int connectedAgents() {
            return connected.get();
        }
    }
}
