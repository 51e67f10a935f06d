package dev.xatm.coordinator.engine;

import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outbound;
import dev.xatm.core.Reply;
import dev.xatm.core.TxnStatus;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Steps the core and carries out its {@link Effects} in their documented order: log appends first
 * (a durable append comes back as {@link Event.DecisionDurable}), then phase commands to the
 * {@link AgentOutbox}, then replies (to the caller of the step, or to the callers waiting on the
 * transaction). It also keeps those waiting callers.
 *
 * <p>Thread-safety: none. It belongs to the {@link CoordinatorLoop}'s thread: every method but the
 * counters' readers is called there only (or, by {@link CoordinatorLoop#stop()}, after that thread
 * ended). Work that arrives on other threads (a log write completing) goes back through
 * {@link Loop#enqueueInternal}, never into the core directly.
 */
final class EffectRunner {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorLoop.class);

    /** What the runner needs from the loop that owns it. */
    interface Loop {
        /** Queues work for the loop thread; from any thread. */
        void enqueueInternal(Runnable work);

        /** Halts the process: the log failed, and in-memory state can no longer be trusted. */
        void logFailed(String what, Throwable cause);

        /** False once {@link CoordinatorLoop#stop()} began. */
        boolean running();
    }

    private record Waiter(boolean untilFinished, CompletableFuture<Reply> reply) {}

    /** Set once by {@link #restored}, before the loop thread starts (Thread.start orders the hand-over). */
    private StateMachine core;
    private final TxnLog txnLog;
    private final AgentOutbox outbox;
    private final CrashSwitch crash;
    private final Loop loop;

    private final Map<String, List<Waiter>> waiters = new HashMap<>();
    // read by any thread
    private volatile int waitingCount;
    private volatile int liveCount;
    private final DecisionCounts decisions = new DecisionCounts();
    private final AgentRefusals refusals = new AgentRefusals();
    private final LongAdder participantCommits = new LongAdder();
    private final LongAdder participantRollbacks = new LongAdder();

    EffectRunner(TxnLog txnLog, AgentOutbox outbox, CrashSwitch crash, Loop loop) {
        this.txnLog = txnLog;
        this.outbox = outbox;
        this.crash = crash;
        this.loop = loop;
    }

    /** The core rebuilt from the log; once, by {@link CoordinatorLoop#start()}, before any step. */
    void restored(StateMachine restored) {
        this.core = restored;
        this.liveCount = restored.liveCount();
    }

    StateMachine core() {
        return core;
    }

    /** Steps one event and carries out its effects in the documented order. */
    void step(Event event, Consumer<Reply> requester) {
        // the loop's log lines carry the gtrid of the event it handles (see XidMdc)
        try (XidMdc.Scope mdc = XidMdc.put(gtridOf(event))) {
            if (log.isDebugEnabled()) {
                log.debug("Step {}", event);
            }
            stepAndApply(event, requester);
        }
    }

    /**
     * Registers a commit/rollback caller on {@code gtrid}, then steps its request: registered first,
     * because the step itself may decide (e.g. no branches). A caller whose future is already done
     * (cancelled while queued) is not registered, but its request still counts: a caller whose
     * deadline passed must not be able to tell whether it was seen.
     */
    void awaitOutcome(Event request, String gtrid, boolean untilFinished, CompletableFuture<Reply> reply, int waitersMax) {
        if (reply.isDone()) {
            step(request, r -> {});
            return;
        }
        List<Waiter> list = waiters.computeIfAbsent(gtrid, g -> new ArrayList<>());
        if (list.size() >= waitersMax) {
            reply.completeExceptionally(CoordinatorUnavailableException.overloaded(waitersMax));
            return;
        }
        list.add(new Waiter(untilFinished, reply));
        waitingCount++;
        step(request, reply::complete);
        forgetDone(gtrid);
    }

    /** Drops the waiters of {@code gtrid} whose futures are done (answered, or cancelled by their caller). */
    void forgetDone(String gtrid) {
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

    /** After the loop thread ended: every caller still waiting hears the coordinator stopped. */
    void failWaiters() {
        waiters.values().forEach(list -> list.forEach(w -> w.reply.completeExceptionally(CoordinatorUnavailableException.stopped())));
        waiters.clear();
        waitingCount = 0;
    }

    int waitingCount() {
        return waitingCount;
    }

    int liveCount() {
        return liveCount;
    }

    DecisionCounts decisions() {
        return decisions;
    }

    AgentRefusals refusals() {
        return refusals;
    }

    long participantCommits() {
        return participantCommits.sum();
    }

    long participantRollbacks() {
        return participantRollbacks.sum();
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
            if (!loop.running()) {
                // stop() interrupted us while the log applied back-pressure: nothing was appended and
                // nothing was answered, so this is a shutdown, not a failure
                log.warn("Shutting down with an append not handed to the log: {}", e.toString());
                return;
            }
            loop.logFailed("the transaction log refused an append", e);
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
                loop.logFailed("a transaction log write failed", error);
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
                loop.enqueueInternal(() -> step(new Event.DecisionDurable(gtrid), null));
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

    private static boolean decided(TxnStatus status) {
        return status == TxnStatus.COMMITTING || status == TxnStatus.ROLLING_BACK || status.isFinished();
    }
}
