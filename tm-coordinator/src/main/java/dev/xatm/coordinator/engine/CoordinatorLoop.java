package dev.xatm.coordinator.engine;

import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.view.TxnViews;
import dev.xatm.protocol.XidMdc;
import dev.xatm.coordinator.log.TxnLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The single thread that owns the protocol core. Everything that happens to the coordinator (client
 * requests and agent messages from gRPC threads, log-write completions, clock ticks) is queued here
 * and fed to {@link StateMachine#step} one event at a time, so the core needs no locks and its
 * behaviour depends only on the order of events.
 *
 * <p>After each step the {@link Effects} are carried out in their documented order:
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
 * in the log's queue, and that wait is bounded by {@code tm.server.log.stall-timeout}. A watchdog on
 * the ticker thread measures how long the log's oldest append has waited; past the same bound the
 * log's {@link TxnLog.StallPolicy} applies (see {@link #watchStore()}).
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
    private final AgentOutbox outbox;
    private final MonotonicClock clock;
    private final Halt halt;
    private final long tickMillis;
    private final int queueCapacity;
    private final CrashSwitch crash;
    private final long stallTimeoutNanos;

    private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger queuedRequests = new AtomicInteger();
    private final AtomicBoolean tickQueued = new AtomicBoolean();
    private volatile boolean running;
    private volatile boolean failed;
    private volatile boolean logFailed;
    private volatile long lastTickMillis;
    private volatile int liveCount;
    private volatile int waitingCount;
    /** Set by the stall watchdog (ticker thread), read by request threads and the health endpoint. */
    private volatile long participantCanCommitMillis;
    private volatile boolean storeStalled;
    private volatile long storePendingMillis;
    private volatile Thread thread;
    private ScheduledExecutorService ticker;

    // ---- loop-thread state ----
    private StateMachine core;
    private final Map<String, List<Waiter>> waiters = new HashMap<>();

    private final java.util.concurrent.atomic.LongAdder participantCommits = new java.util.concurrent.atomic.LongAdder();
    private final DecisionCounts decisions = new DecisionCounts();
    private final AgentRefusals refusals = new AgentRefusals();
    private final java.util.concurrent.atomic.LongAdder participantRollbacks = new java.util.concurrent.atomic.LongAdder();

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
        this.crash = crash;
        if (tickMillis <= 0 || queueCapacity <= 0) {
            throw new IllegalArgumentException("tickMillis and queueCapacity must be > 0");
        }
        if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
            throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
        }
        this.stallTimeoutNanos = stallTimeout.toNanos();
        this.restorer = restorer;
        this.txnLog = txnLog;
        this.outbox = outbox;
        this.clock = clock;
        this.halt = halt;
        this.tickMillis = tickMillis;
        this.queueCapacity = queueCapacity;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Reads the durable log, rebuilds the core from it and starts the loop thread and the ticker. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("already started");
        }
        List<LogRecord> records = txnLog.open();
        long now = clock.millis();
        core = restorer.restore(records, now);
        participantCanCommitMillis = core.participantCanCommitMillis();
        liveCount = core.liveCount();
        lastTickMillis = now;
        log.info("Recovered {} log records; {} committed transactions resume phase 2", records.size(), liveCount);

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
        long watchMillis = Math.max(1, Math.min(tickMillis, TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) / 4));
        ticker.scheduleAtFixedRate(this::watchStore, watchMillis, watchMillis, TimeUnit.MILLISECONDS);
        // A shared store (JDBC) hands us the open transactions of dead nodes we take over; they join the
        // core like restored ones. Dropped only if the loop stopped: the rows are ours in the store then,
        // and the next incarnation of this node reads them as its own.
        txnLog.startTakeovers(this::adopted);
    }

    /** Called on the store's thread: queue the records for the core, never touch it from here. */
    private void adopted(String from, List<LogRecord> records) {
        enqueueInternal(() -> {
            step(new Event.Adopted(from, records), null);
            log.debug("Adopted {} log records from {}; {} live transactions here now", records.size(), from, liveCount);
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
        dropQueued();
        waiters.values().forEach(list -> list.forEach(w -> w.reply.completeExceptionally(CoordinatorUnavailableException.stopped())));
        waiters.clear();
        waitingCount = 0;
    }

    // ---------------------------------------------------------------- requests (any thread)

    /** Begins a transaction that times out {@code timeoutMillis} from now on the loop's clock. */
    public CompletableFuture<Reply> begin(String gtrid, String name, long timeoutMillis) {
        return begin(gtrid, name, timeoutMillis, null);
    }

    /** Begin with a commit protocol; null means the coordinator's default. */
    public CompletableFuture<Reply> begin(String gtrid, String name, long timeoutMillis, dev.xatm.core.Protocol protocol) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        if (refusedWhileStalled(reply)) {
            return reply;
        }
        submit(reply, () -> step(new Event.Begin(gtrid, name, clock.millis() + timeoutMillis, protocol), reply::complete));
        return reply;
    }

    public CompletableFuture<Reply> registerBranch(Event.RegisterBranch request) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        if (refusedWhileStalled(reply)) {
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
        if (refusedWhileStalled(refused)) {
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
        if (refusedWhileStalled(refused)) {
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
        if (refusedWhileStalled(refused)) {
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
        submit(reply, () -> reply.complete(core.status(gtrid)));
        return reply;
    }

    /**
     * An agent's Vote, Ack or Inquiry, or the store's verdict on an inquiry. {@code onReply} gets the core's Rejected, if any. False when
     * the queue is full or the loop stopped: the message is dropped, and the core's resend of its
     * command makes the agent answer again.
     */
    public boolean offerAgentMessage(Event event, Consumer<Reply> onReply) {
        return enqueue(new Task(() -> step(event, onReply), true, () -> {}));
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
                reply.complete(query.apply(core.views()));
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
                liveCount, waitingCount, queuedRequests.get(), outbox.connectedAgents(), storeStalled, storePendingMillis);
    }

    // ---------------------------------------------------------------- the loop thread

    private void run() {
        try {
            while (running) {
                Task task = queue.take();
                if (task.request) {
                    queuedRequests.decrementAndGet();
                }
                if (!running) {
                    task.drop.run();
                    break;
                }
                task.work.run();
            }
        } catch (InterruptedException e) {
            // stop() interrupts us; the queue is drained by stop()
        } catch (Throwable t) {
            fatal("the coordinator core failed; its in-memory state can no longer be trusted", t);
        }
    }

    private static boolean decided(TxnStatus status) {
        return status == TxnStatus.COMMITTING || status == TxnStatus.ROLLING_BACK || status.isFinished();
    }

    /** Decisions taken by this coordinator, by outcome and protocol (counted on the loop's thread, read by any). */
    public DecisionCounts decisions() {
        return decisions;
    }

    /** 3PC branches whose participant reported deciding on its own (autonomous acks received, duplicates included). */
    /** Votes, acks and agent claims refused because the agent spoke for a branch or an agent id not its own. */
    public AgentRefusals agentRefusals() {
        return refusals;
    }

    public long participantCommits() {
        return participantCommits.sum();
    }

    public long participantRollbacks() {
        return participantRollbacks.sum();
    }

    /** Steps one event and carries out its effects in the documented order. */
    private void step(Event event, Consumer<Reply> requester) {
        // the loop's log lines carry the gtrid of the event it handles (see XidMdc)
        try (XidMdc.Scope mdc = XidMdc.put(gtridOf(event))) {
            if (log.isDebugEnabled()) {
                log.debug("Step {}", event);
            }
            stepAndApply(event, requester);
        }
    }

    /** The gtrid an event is about; null for those about no single transaction (Tick, agents, adoption). */
    static String gtridOf(Event event) {
        if (event instanceof Event.Begin e) {
            return e.gtrid();
        } else if (event instanceof Event.RegisterBranch e) {
            return e.gtrid();
        } else if (event instanceof Event.CommitRequested e) {
            return e.gtrid();
        } else if (event instanceof Event.CommitPrepared e) {
            return e.gtrid();
        } else if (event instanceof Event.RollbackRequested e) {
            return e.gtrid();
        } else if (event instanceof Event.VoteReceived e) {
            return e.gtrid();
        } else if (event instanceof Event.AckReceived e) {
            return e.gtrid();
        } else if (event instanceof Event.DecisionDurable e) {
            return e.gtrid();
        } else if (event instanceof Event.Inquiry e) {
            return e.gtrid();
        } else if (event instanceof Event.StoreVerdict e) {
            return e.gtrid();
        } else if (event instanceof Event.ForceCommit e) {
            return e.gtrid();
        } else if (event instanceof Event.ForceRollback e) {
            return e.gtrid();
        } else if (event instanceof Event.Forget e) {
            return e.gtrid();
        }
        return null;
    }

    private void stepAndApply(Event event, Consumer<Reply> requester) {
        // A client that retries its commit or rollback hears the decision again: not a new decision.
        boolean repeatsDecision = (event instanceof Event.CommitRequested || event instanceof Event.RollbackRequested
                || event instanceof Event.CommitPrepared) && decided(core.status(gtridOf(event)));
        if (event instanceof Event.AckReceived ack && ack.autonomous()) {
            (ack.action() == dev.xatm.core.Action.COMMIT ? participantCommits : participantRollbacks).increment();
            log.info("Branch {} of {}: its 3PC participant decided {} on its own (its timer ran out)", ack.bqual(), ack.gtrid(), ack.action());
        }
        if (event instanceof Event.AckReceived ack && ack.result() != null && ack.result().isHeuristic()) {
            // A database decided a branch on its own. The core holds it for an operator; this line makes
            // sure it also survives in the server's log whatever happens to the process.
            log.warn("HEURISTIC outcome {} reported for branch {} of {} (answer to {}); see the admin API's in-doubt list",
                    ack.result(), ack.bqual(), ack.gtrid(), ack.action());
        }
        Effects effects = core.step(event);
        if (!effects.logAppends().isEmpty()) {
            append(effects.logAppends(), effects.mustSync());
        }
        for (Outbound command : effects.messages()) {
            // a Tick resends to many transactions: each send is logged under its own gtrid
            try (XidMdc.Scope mdc = XidMdc.put(command.gtrid())) {
                outbox.send(command);
            } catch (RuntimeException e) {
                // a broken stream must not stop the coordinator; the core resends
                log.warn("Could not send {} for {}/{} to agent {}: {}", command.action(), command.gtrid(), command.bqual(), command.agentId(), e.toString());
            }
        }
        for (Reply reply : effects.replies()) {
            if (reply instanceof Reply.Rejected no && no.code() == dev.xatm.core.ErrorCode.PERMISSION_DENIED) {
                refusals.record(no.request() == dev.xatm.core.RequestKind.VOTE ? AgentRefusals.Kind.VOTE : AgentRefusals.Kind.ACK);
            }
            if (reply instanceof Reply.Decided d && !repeatsDecision) {
                decisions.record(d.gtrid(), d.outcome(), core.protocol(d.gtrid()));
            }
            route(reply, requester);
        }
        liveCount = core.liveCount();
        if (event instanceof Event.AckReceived ack && ack.action() == dev.xatm.core.Action.COMMIT
                && ack.result() == dev.xatm.core.AckResult.DONE && core.status(ack.gtrid()) == TxnStatus.COMMITTING) {
            crash.reached(CrashPoint.MID_PHASE_2, ack.gtrid() + "/" + ack.bqual() + " committed, others not yet");
        }
    }

    private void append(List<LogRecord> records, boolean sync) {
        for (LogRecord r : records) {
            if (r instanceof LogRecord.Decision) {
                crash.reached(CrashPoint.BEFORE_DECISION_LOG, r.gtrid());
            } else if (r instanceof LogRecord.PreCommit) {
                crash.reached(CrashPoint.BEFORE_PRE_COMMIT_LOG, r.gtrid());
            }
        }
        CompletableFuture<Void> written;
        try {
            written = txnLog.append(records, sync);
        } catch (RuntimeException e) {
            if (!running) {
                // stop() interrupted us while the log applied back-pressure: nothing was appended and
                // nothing was answered, so this is a shutdown, not a failure
                log.warn("Shutting down with an append not handed to the log: {}", e.toString());
                return;
            }
            logFailed = true;
            fatal("the transaction log refused an append", e);
            return;
        }
        List<LogRecord> durable = new ArrayList<>();
        for (LogRecord r : records) {
            if (r.mustBeDurable()) {
                durable.add(r);
            }
        }
        // Runs on the log's thread (or right here if the write finished at once): only queue events.
        written.whenComplete((ok, error) -> {
            if (error != null) {
                logFailed = true;
                fatal("a transaction log write failed", error);
                return;
            }
            for (LogRecord r : durable) {
                String gtrid = r.gtrid();
                // A 3PC Aborted record is durable-before-reply too, but it has no crash point of its own.
                if (r instanceof LogRecord.PreCommit) {
                    crash.reached(CrashPoint.AFTER_PRE_COMMIT_LOG, gtrid);
                } else if (r instanceof LogRecord.Decision) {
                    crash.reached(CrashPoint.AFTER_DECISION_LOG, gtrid);
                }
                enqueueInternal(() -> step(new Event.DecisionDurable(gtrid), null));
            }
        });
    }

    private void route(Reply reply, Consumer<Reply> requester) {
        if (reply instanceof Reply.Decided || reply instanceof Reply.PreCommitted) {
            completeWaiters(reply.gtrid(), reply, false);
        } else if (reply instanceof Reply.Finished) {
            completeWaiters(reply.gtrid(), reply, true);
        } else {
            answer(requester, reply); // Begun, Registered, Rejected: for the caller of this step
        }
    }

    private void answer(Consumer<Reply> requester, Reply reply) {
        if (requester == null) {
            log.warn("The core answered {} with no caller waiting for it", reply);
            return;
        }
        try {
            requester.accept(reply);
        } catch (RuntimeException e) {
            log.warn("Delivering {} to its caller failed: {}", reply, e.toString());
        }
    }

    private CompletableFuture<Reply> awaitOutcome(Event request, String gtrid, boolean untilFinished) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        submit(reply, () -> {
            if (reply.isDone()) {
                // cancelled while queued: nobody waits any more, but the request still counts (a
                // caller whose deadline passed must not be able to tell whether it was seen)
                step(request, r -> {});
                return;
            }
            List<Waiter> list = waiters.computeIfAbsent(gtrid, g -> new ArrayList<>());
            if (list.size() >= MAX_WAITERS_PER_TXN) {
                reply.completeExceptionally(CoordinatorUnavailableException.overloaded(MAX_WAITERS_PER_TXN));
                return;
            }
            // registered before the step, because the step itself may decide (e.g. no branches)
            list.add(new Waiter(untilFinished, reply));
            waitingCount++;
            step(request, reply::complete);
            forgetDone(gtrid);
        });
        // A caller whose deadline passed cancels the future; drop its waiter so none leaks.
        reply.whenComplete((r, e) -> {
            if (reply.isCancelled()) {
                enqueueInternal(() -> forgetDone(gtrid));
            }
        });
        return reply;
    }

    /** Decided answers callers that asked for the decision only; Finished answers everybody. */
    private void completeWaiters(String gtrid, Reply reply, boolean finished) {
        List<Waiter> list = waiters.get(gtrid);
        if (list == null) {
            return;
        }
        for (Waiter w : list) {
            if (finished || !w.untilFinished) {
                w.reply.complete(reply);
            }
        }
        forgetDone(gtrid);
    }

    private void forgetDone(String gtrid) {
        List<Waiter> list = waiters.get(gtrid);
        if (list == null) {
            return;
        }
        int before = list.size();
        list.removeIf(w -> w.reply.isDone());
        waitingCount -= before - list.size();
        if (list.isEmpty()) {
            waiters.remove(gtrid);
        }
    }

    /**
     * New work (Begin, RegisterBranch, a commit) would only add decisions to a log that is not
     * writing them: answer it UNAVAILABLE at once, so callers fail fast and retry elsewhere or later.
     * Rollbacks, status, agents' votes and acks still go through: none needs a new durable record
     * (a rollback is presumed), and phase 2 of durable decisions keeps going.
     */
    private boolean refusedWhileStalled(CompletableFuture<Reply> reply) {
        if (!storeStalled) {
            return false;
        }
        reply.completeExceptionally(CoordinatorUnavailableException.storeStalled(storePendingMillis));
        return true;
    }

    /**
     * The stall watchdog, on the ticker thread every tick (or a quarter of the stall timeout, if
     * shorter). A stalled log (its oldest append waiting past the stall timeout) never freezes the
     * coordinator silently: its {@link TxnLog#stallPolicy()} says whether the node halts (the file log)
     * or stays up, refusing new work and showing the store DOWN until the writes go through again (JDBC).
     */
    private void watchStore() {
        if (failed) {
            return;
        }
        try {
            OptionalLong since = txnLog.oldestPendingSince();
            long waitedNanos = since.isPresent() ? Math.max(0, System.nanoTime() - since.getAsLong()) : 0;
            storePendingMillis = TimeUnit.NANOSECONDS.toMillis(waitedNanos);
            boolean stalled = waitedNanos > stallTimeoutNanos;
            if (stalled && txnLog.stallPolicy() == TxnLog.StallPolicy.HALT) {
                logFailed = true;
                fatal("the transaction log has not completed an append for " + storePendingMillis + " ms (tm.server.log.stall-timeout is "
                        + TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos) + " ms): the disk does not finish a write or fsync", null);
                return;
            }
            if (stalled && !storeStalled) {
                log.error("The transaction store has not completed an append for {} ms (tm.server.log.stall-timeout is {} ms);"
                        + " refusing new transactions with UNAVAILABLE until it does. Phase 2 of decided transactions goes on",
                        storePendingMillis, TimeUnit.NANOSECONDS.toMillis(stallTimeoutNanos));
            } else if (!stalled && storeStalled) {
                log.info("The transaction store completes appends again; taking new transactions");
            }
            storeStalled = stalled;
        } catch (RuntimeException e) {
            // the watchdog must keep running: a ScheduledExecutorService drops a task that throws
            log.warn("Checking the transaction store for a stall failed: {}", e.toString());
        }
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

    // ---------------------------------------------------------------- queueing

    private record Task(Runnable work, boolean request, Runnable drop) {}

    private record Waiter(boolean untilFinished, CompletableFuture<Reply> reply) {}

    private void submit(CompletableFuture<?> reply, Runnable work) {
        Task task = new Task(work, true, () -> reply.completeExceptionally(CoordinatorUnavailableException.stopped()));
        if (!enqueue(task)) {
            reply.completeExceptionally(running
                    ? CoordinatorUnavailableException.overloaded(queueCapacity)
                    : CoordinatorUnavailableException.stopped());
        }
    }

    private boolean enqueue(Task task) {
        if (!running) {
            return false;
        }
        if (task.request && queuedRequests.incrementAndGet() > queueCapacity) {
            queuedRequests.decrementAndGet();
            return false;
        }
        queue.add(task);
        if (!running) {
            dropQueued(); // raced with stop(): nobody will take it any more
        }
        return true;
    }

    private void enqueueInternal(Runnable work) {
        enqueue(new Task(work, false, () -> {}));
    }

    private void dropQueued() {
        Task t;
        while ((t = queue.poll()) != null) {
            if (t.request) {
                queuedRequests.decrementAndGet();
            }
            t.drop.run();
        }
    }
}
