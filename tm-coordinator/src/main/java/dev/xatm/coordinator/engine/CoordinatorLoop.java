package dev.xatm.coordinator.engine;

import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.TxnViews;
import dev.xatm.coordinator.cluster.Takeovers;
import dev.xatm.coordinator.log.TxnLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The single thread that owns the protocol core. Everything that happens to the coordinator (client
 * requests and agent messages from gRPC threads, log-write completions, clock ticks) is queued here
 * and fed to {@link StateMachine#step} one event at a time, so the core needs no locks and its
 * behaviour depends only on the order of events.
 *
 * <p>After each step the {@link dev.xatm.core.Effects} are carried out in their documented order,
 * by the {@link EffectRunner} (the loop thread's alone):
 * <ol>
 *   <li>log appends are handed to {@link TxnLog#append}; when a synced append is durable, a
 *       {@link Event.DecisionDurable} per decision is queued back into this loop. The loop does not
 *       wait for the disk: other transactions keep moving while the fsync runs (group commit);</li>
 *   <li>phase commands go to the {@link AgentOutbox} (the core only emits a COMMIT once its
 *       decision is durable, so they can go right away);</li>
 *   <li>replies: Begun, Registered and Rejected go to the caller whose request was stepped;
 *       Decided completes every commit/rollback caller of that gtrid except those waiting for
 *       completion, which Finished completes.</li>
 * </ol>
 *
 * <p><b>No unbounded stall.</b> The loop never waits for the disk or the database, except for room
 * in the log's queue, and that wait is bounded by {@code tm.server.log.stall-timeout}. The
 * {@link StoreWatchdog} on the ticker thread measures how long the log's oldest append has waited;
 * past the same bound the log's {@link TxnLog.StallPolicy} applies.
 *
 * <p><b>Single owner.</b> This class is the loop's lifecycle, its public requests and its timers
 * (the tick, the watchdog). The core and the waiting callers belong to the loop thread alone: other
 * threads reach them only by queueing a task ({@link TaskQueue}), so the core needs no locks and a
 * query or an operator event runs between two steps, never during one.
 *
 * <p>Thread-safety: the public request methods may be called from any thread; they never block.
 * Client requests and agent messages share a bounded queue ({@code queueCapacity}); events that
 * must not be lost (durable decisions, agent (dis)connections, ticks) bypass the bound, and there
 * are few of them by construction. All other state is touched by the loop thread only.
 */
public final class CoordinatorLoop {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorLoop.class);
    /** Commit/rollback callers that may wait on one transaction; more are refused, so repeats cannot pile up. */
    static final int MAX_WAITERS_PER_TXN = 64;
    /** Exit status when the process halts itself (EX_SOFTWARE). */
    static final int HALT_STATUS = 70;

    /** How the process stops itself after a fatal error; {@code Runtime.getRuntime()::halt} in production. */
    @FunctionalInterface
    public interface Halt {
        void halt(int status);
    }

    /** Default of {@code tm.server.log.stall-timeout}. */
    public static final Duration STALL_TIMEOUT_DEFAULT = Duration.ofSeconds(30);

    /**
     * What the health endpoint shows. No identifiers, no secrets. {@code storeStalled}: the log has
     * had an append waiting longer than the stall timeout, and new work is refused;
     * {@code storePendingMillis}: how long its oldest waiting append has waited (0: none waits).
     */
    public record Snapshot(boolean running, boolean failed, boolean logFailed, long millisSinceLastTick,
                           int liveTransactions, int waitingCallers, int queuedRequests, int connectedAgents,
                           boolean storeStalled, long storePendingMillis) {}

    private final StateMachine.Restorer restorer;
    private final TxnLog txnLog;
    private final Takeovers takeovers;
    private final AgentOutbox outbox;
    private final MonotonicClock clock;
    private final Halt halt;
    private final long tickMillis;
    private final CrashSwitch crash;

    private final TaskQueue queue;
    private final AtomicBoolean tickQueued = new AtomicBoolean();
    private volatile boolean running;
    private volatile boolean failed;
    private volatile boolean logFailed;
    private volatile long lastTickMillis;
    private volatile long participantCanCommitMillis;
    private volatile Thread thread;
    private ScheduledExecutorService ticker;

    /** The core and its effects: the loop thread's alone. */
    private final EffectRunner runner;
    private final StoreWatchdog watchdog;

    public CoordinatorLoop(StateMachine.Restorer restorer, TxnLog txnLog, AgentOutbox outbox, MonotonicClock clock,
                           Halt halt, long tickMillis, int queueCapacity) {
        this(restorer, txnLog, outbox, clock, halt, tickMillis, queueCapacity, CrashSwitch.NONE);
    }

    /** @param crash where to halt on purpose (tests of recovery); {@link CrashSwitch#NONE} in production */
    public CoordinatorLoop(StateMachine.Restorer restorer, TxnLog txnLog, AgentOutbox outbox, MonotonicClock clock,
                           Halt halt, long tickMillis, int queueCapacity, CrashSwitch crash) {
        this(restorer, txnLog, outbox, clock, halt, tickMillis, queueCapacity, crash, STALL_TIMEOUT_DEFAULT);
    }

    /**
     * @param stallTimeout how long the log's oldest append may wait before the store counts as stalled
     *                     ({@code tm.server.log.stall-timeout}); then the log's {@link TxnLog#stallPolicy()}
     *                     applies: halt, or refuse new work until the store catches up
     */
    public CoordinatorLoop(StateMachine.Restorer restorer, TxnLog txnLog, AgentOutbox outbox, MonotonicClock clock,
                           Halt halt, long tickMillis, int queueCapacity, CrashSwitch crash, Duration stallTimeout) {
        this(restorer, txnLog, Takeovers.NONE, outbox, clock, halt, tickMillis, queueCapacity, crash, stallTimeout);
    }

    /**
     * @param takeovers the dead nodes of a shared store this server takes over, started once the log is
     *                  open; {@link Takeovers#NONE} for a store of one server
     */
    public CoordinatorLoop(StateMachine.Restorer restorer, TxnLog txnLog, Takeovers takeovers, AgentOutbox outbox, MonotonicClock clock,
                           Halt halt, long tickMillis, int queueCapacity, CrashSwitch crash, Duration stallTimeout) {
        this.crash = crash;
        this.takeovers = java.util.Objects.requireNonNull(takeovers, "takeovers");
        if (tickMillis <= 0 || queueCapacity <= 0) {
            throw new IllegalArgumentException("tickMillis and queueCapacity must be > 0");
        }
        if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
            throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
        }
        this.restorer = restorer;
        this.txnLog = txnLog;
        this.outbox = outbox;
        this.clock = clock;
        this.halt = halt;
        this.tickMillis = tickMillis;
        this.queue = new TaskQueue(queueCapacity, () -> running);
        this.runner = new EffectRunner(txnLog, outbox, crash, new EffectRunner.Loop() {
            @Override
            public void enqueueInternal(Runnable work) {
                CoordinatorLoop.this.enqueueInternal(work);
            }

            @Override
            public void logFailed(String what, Throwable cause) {
                CoordinatorLoop.this.logFailed(what, cause);
            }

            @Override
            public boolean running() {
                return running;
            }
        });
        this.watchdog = new StoreWatchdog(txnLog, stallTimeout.toNanos(), this::logFailed);
    }

    // ---------------------------------------------------------------- lifecycle

    /** Reads the durable log, rebuilds the core from it and starts the loop thread and the ticker. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        List<LogRecord> records = txnLog.open();
        long now = clock.millis();
        StateMachine core = restorer.restore(records, now);
        runner.restored(core);
        participantCanCommitMillis = core.participantCanCommitMillis();
        lastTickMillis = now;
        log.info("Recovered {} log records; {} committed transactions resume phase 2", records.size(), core.liveCount());

        running = true;
        thread = new Thread(this::run, "tm-coordinator-loop");
        thread.start();
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tm-coordinator-tick");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::queueTick, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
        // On the ticker thread, not the loop: it must see a stall even while the loop thread itself
        // waits for room in the log's queue.
        long watchMillis = watchdog.intervalMillis(tickMillis);
        ticker.scheduleAtFixedRate(this::watchStore, watchMillis, watchMillis, TimeUnit.MILLISECONDS);
        // A shared store (JDBC) hands us the open transactions of dead nodes we take over; they join the
        // core like restored ones. Dropped only if the loop stopped: the rows are ours in the store then,
        // and the next incarnation of this node reads them as its own.
        takeovers.start(this::adopted);
    }

    /** Called on the store's thread: queue the records for the core, never touch it from here. */
    private void adopted(String from, List<LogRecord> records) {
        enqueueInternal(() -> {
            step(new Event.Adopted(from, records), null);
            log.debug("Adopted {} log records from {}; {} live transactions here now", records.size(), from, runner.liveCount());
        });
    }

    /** Stops taking events; queued requests and waiting callers fail with {@link CoordinatorUnavailableException}. */
    public synchronized void stop() {
        if (thread == null) {
            return;
        }
        running = false;
        ticker.shutdownNow();
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("The coordinator loop did not stop within 10 s; abandoning its waiting callers");
            return;
        }
        // the loop thread has ended (join gives us its state): fail what is left
        queue.dropQueued();
        runner.failWaiters();
    }

    // ---------------------------------------------------------------- requests (any thread)

    /** Begins a transaction that times out {@code timeoutMillis} from now on the loop's clock. */
    public CompletableFuture<Reply> begin(String gtrid, String name, long timeoutMillis) {
        return begin(gtrid, name, timeoutMillis, null);
    }

    /** Begin with a commit protocol; null means the coordinator's default. */
    public CompletableFuture<Reply> begin(String gtrid, String name, long timeoutMillis, dev.xatm.core.Protocol protocol) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        if (watchdog.refused(reply)) {
            return reply;
        }
        submit(reply, () -> step(new Event.Begin(gtrid, name, clock.millis() + timeoutMillis, protocol), reply::complete));
        return reply;
    }

    public CompletableFuture<Reply> registerBranch(Event.RegisterBranch request) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        if (watchdog.refused(reply)) {
            return reply;
        }
        submit(reply, () -> step(request, reply::complete));
        return reply;
    }

    /**
     * Completes with Decided (or Finished, when {@code untilFinished}) or Rejected. Cancelling the
     * future (the caller's deadline passed) forgets the caller; the commit itself goes on.
     */
    public CompletableFuture<Reply> commit(String gtrid, boolean untilFinished) {
        CompletableFuture<Reply> refused = new CompletableFuture<>();
        if (watchdog.refused(refused)) {
            return refused;
        }
        return awaitOutcome(new Event.CommitRequested(gtrid), gtrid, untilFinished);
    }

    /**
     * A commit that brings the votes of the requester's own prepared branches; starts the
     * transaction, timing out {@code timeoutMillis} from now, if the core does not know it yet.
     * Completes with Decided or Rejected.
     */
    public CompletableFuture<Reply> commitPrepared(String gtrid, String name, long timeoutMillis, String agentId,
                                                   List<Event.Voted> branches) {
        CompletableFuture<Reply> refused = new CompletableFuture<>();
        if (watchdog.refused(refused)) {
            return refused;
        }
        return awaitOutcome(new Event.CommitPrepared(gtrid, name, clock.millis() + timeoutMillis, agentId, branches), gtrid, false);
    }

    /**
     * The cheap 3PC's first request: the requester's own CAN_COMMIT answers; starts the transaction,
     * timing out {@code timeoutMillis} from now. Completes with PreCommitted, Decided or Rejected.
     */
    public CompletableFuture<Reply> canCommitHeld(String gtrid, String name, long timeoutMillis, String agentId,
                                                  List<Event.Voted> branches) {
        CompletableFuture<Reply> refused = new CompletableFuture<>();
        if (watchdog.refused(refused)) {
            return refused;
        }
        return awaitOutcome(new Event.CanCommitHeld(gtrid, name, clock.millis() + timeoutMillis, agentId, branches), gtrid, false);
    }

    /** The cheap 3PC's second request: the requester's own PRE_COMMIT answers. Completes with Decided or Rejected. */
    public CompletableFuture<Reply> preCommitHeld(String gtrid, String agentId, List<Event.Voted> branches) {
        return awaitOutcome(new Event.PreCommitHeld(gtrid, agentId, branches), gtrid, false);
    }

    /** See {@link StateMachine#participantCanCommitMillis()}; 0 before {@link #start()}. Any thread. */
    public long participantCanCommitMillis() {
        return participantCanCommitMillis;
    }

    public CompletableFuture<Reply> rollback(String gtrid) {
        return awaitOutcome(new Event.RollbackRequested(gtrid), gtrid, false);
    }

    public CompletableFuture<TxnStatus> status(String gtrid) {
        CompletableFuture<TxnStatus> reply = new CompletableFuture<>();
        submit(reply, () -> reply.complete(runner.core().status(gtrid)));
        return reply;
    }

    /**
     * An agent's Vote, Ack or Inquiry, or the store's verdict on an inquiry. {@code onReply} gets the core's Rejected, if any. False when
     * the queue is full or the loop stopped: the message is dropped, and the core's resend of its
     * command makes the agent answer again.
     */
    public boolean offerAgentMessage(Event event, Consumer<Reply> onReply) {
        return queue.enqueue(new TaskQueue.Task(() -> step(event, onReply), true, () -> {}));
    }

    /**
     * An operator's forced resolution (ForceCommit, ForceRollback, Forget): completes with the core's
     * Resolved or Rejected. Queued like any request, so it is refused when the queue is full.
     */
    public CompletableFuture<Reply> operator(Event event) {
        if (!(event instanceof Event.ForceCommit || event instanceof Event.ForceRollback || event instanceof Event.Forget)) {
            throw new IllegalArgumentException("not an operator event: " + event);
        }
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        submit(reply, () -> step(event, reply::complete));
        return reply;
    }

    /**
     * Runs a read-only query on the loop thread, between two steps, and completes with its result:
     * the core is never touched from another thread. The query must only read and must return copies
     * (the {@link TxnViews} contract).
     */
    public <T> CompletableFuture<T> query(Function<TxnViews, T> query) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        submit(reply, () -> {
            try {
                reply.complete(query.apply(runner.core().views()));
            } catch (RuntimeException e) {
                reply.completeExceptionally(e); // a bad query argument, not a broken core
            }
        });
        return reply;
    }

    public void agentConnected(String agentId) {
        enqueueInternal(() -> step(new Event.AgentConnected(agentId), null));
    }

    public void agentDisconnected(String agentId) {
        enqueueInternal(() -> step(new Event.AgentDisconnected(agentId), null));
    }

    /** Wall-clock epoch millis of a time on the loop's monotonic clock; for display only. */
    public long toEpochMillis(long monotonicMillis) {
        return System.currentTimeMillis() + (monotonicMillis - clock.millis());
    }

    public Snapshot snapshot() {
        boolean alive = running && thread != null && thread.isAlive();
        return new Snapshot(alive, failed, logFailed, Math.max(0, clock.millis() - lastTickMillis),
                runner.liveCount(), runner.waitingCount(), queue.queuedRequests(), outbox.connectedAgents(), watchdog.stalled(),
                watchdog.pendingMillis());
    }

    // ---------------------------------------------------------------- the loop thread

    private void run() {
        try {
            while (running) {
                TaskQueue.Task task = queue.take();
                if (!running) {
                    task.drop().run();
                    break;
                }
                task.work().run();
            }
        } catch (InterruptedException e) {
            // stop() interrupts us; the queue is drained by stop()
        } catch (Throwable t) {
            fatal("the coordinator core failed; its in-memory state can no longer be trusted", t);
        }
    }

    /** Decisions taken by this coordinator, by outcome and protocol (counted on the loop's thread, read by any). */
    public DecisionCounts decisions() {
        return runner.decisions();
    }

    /** Votes, acks and agent claims refused because the agent spoke for a branch or an agent id not its own. */
    public AgentRefusals agentRefusals() {
        return runner.refusals();
    }

    /** 3PC branches whose participant reported committing on its own (autonomous acks received, duplicates included). */
    public long participantCommits() {
        return runner.participantCommits();
    }

    /** 3PC branches whose participant reported rolling back on its own. */
    public long participantRollbacks() {
        return runner.participantRollbacks();
    }

    private CompletableFuture<Reply> awaitOutcome(Event request, String gtrid, boolean untilFinished) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        submit(reply, () -> runner.awaitOutcome(request, gtrid, untilFinished, reply, MAX_WAITERS_PER_TXN));
        // A caller whose deadline passed cancels the future; drop its waiter so none leaks.
        reply.whenComplete((r, e) -> {
            if (reply.isCancelled()) {
                enqueueInternal(() -> runner.forgetDone(gtrid));
            }
        });
        return reply;
    }

    /** Steps one event on the loop thread; see {@link EffectRunner}. */
    private void step(Event event, Consumer<Reply> requester) {
        runner.step(event, requester);
    }

    /** On the ticker thread; see {@link StoreWatchdog}. */
    private void watchStore() {
        if (!failed) {
            watchdog.check();
        }
    }

    /** The log failed or stalled past its bound under the HALT policy. */
    private void logFailed(String what, Throwable cause) {
        logFailed = true;
        fatal(what, cause);
    }

    private void queueTick() {
        if (running && tickQueued.compareAndSet(false, true)) {
            enqueueInternal(this::tick);
        }
    }

    private void tick() {
        tickQueued.set(false);
        long now = clock.millis();
        step(new Event.Tick(now), null);
        lastTickMillis = now;
    }

    /**
     * Stops the process at once, without shutdown hooks. Used when the log failed or the core threw:
     * from then on we cannot know whether our in-memory state matches what is durable (a decision may
     * or may not have reached the disk), and acting on it (sending a COMMIT, answering a caller,
     * letting a graceful shutdown flush or close the log) could contradict the log. Halting is safe
     * because nothing irreversible has happened without a durable record: no COMMIT goes out before
     * its decision is durable, and the restart resumes every durable decision and presumes every
     * other transaction aborted (design notes 12).
     */
    private void fatal(String what, Throwable cause) {
        failed = true;
        running = false;
        log.error("FATAL: {}; halting so that the restart recovers from what is durable", what, cause);
        halt.halt(HALT_STATUS);
    }

    private void submit(CompletableFuture<?> reply, Runnable work) {
        queue.submit(reply, work);
    }

    private void enqueueInternal(Runnable work) {
        queue.enqueueInternal(work);
    }
}
