package dev.xatm.server.it;

import dev.xatm.core.Event;
import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.BranchState;
import dev.xatm.core.participant.OwnDecision;
import dev.xatm.core.participant.Outgoing;
import dev.xatm.core.participant.Participant;
import dev.xatm.core.participant.ParticipantEffects;
import dev.xatm.core.participant.ParticipantEvent;
import dev.xatm.core.participant.TimerCommand;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drives one real participant core ({@link Participant}, tm-core) with real threads, a real clock
 * and real databases, as the starter's agent does: each event is stepped under one lock, and the
 * effects are carried out in the order the core prescribes -- own decisions journaled (here: handed
 * to the test's record), timers armed on a scheduler, each branch's XA calls run in order on its own
 * queue ({@link XaSessions}) with the result fed back as {@link ParticipantEvent.XaCompleted}, XA
 * RECOVER's listing fed back as {@link ParticipantEvent.Recovered}, messages handed to the
 * {@link Outlet}, problems reported. It decides nothing.
 *
 * <p>Thread-safe: the core is only touched under this object's lock.
 */
final class ParticipantDriver {
    private static final Logger log = LoggerFactory.getLogger(ParticipantDriver.class);

    /** Where the core's messages go: the stream to {@code server}, or a test waiting for a direct answer. */
    interface Outlet {
        void send(String server, Event message);
    }

    /** The process dies at a point of an XA call (a crash point); true if it did, and nothing more must run. */
    interface CrashPoints {
        boolean diesAfter(XaOp op, BranchKey key);
    }

    /** What the driver reports to the test: its own decisions (the journal) and the core's problems. */
    interface Record {
        void decided(OwnDecision d);

        void problem(String p);
    }

    private final Participant core; // guarded by this
    private final XaSessions xa;
    private final SerialQueues queues;
    private final ScheduledExecutorService scheduler;
    private final Outlet outlet;
    private final CrashPoints crashPoints;
    private final Record record;
    private final Map<Long, ScheduledFuture<?>> timers = new ConcurrentHashMap<>();
    private volatile boolean dead;

    ParticipantDriver(Participant core, XaSessions xa, SerialQueues queues, ScheduledExecutorService scheduler, Outlet outlet,
                      CrashPoints crashPoints, Record record) {
        this.core = core;
        this.xa = xa;
        this.queues = queues;
        this.scheduler = scheduler;
        this.outlet = outlet;
        this.crashPoints = crashPoints;
        this.record = record;
    }

    /** The driver's monotonic clock, the only time the core ever sees. */
    static long nowMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    }

    /** Steps the core with {@code e} and carries its effects out (XA calls asynchronously, on their branch's queue). */
    synchronized void feed(ParticipantEvent e) {
        if (dead) {
            return; // a dead agent hears and does nothing
        }
        ParticipantEffects fx = core.step(e);
        fx.journal().forEach(record::decided);
        fx.timers().forEach(this::timer);
        submit(fx.xa());
        for (Outgoing m : fx.messages()) {
            outlet.send(m.server(), m.message());
        }
        fx.problems().forEach(p -> {
            log.error("participant problem: {}", p);
            record.problem(p);
        });
    }

    /**
     * Lets a business statement run on the branch: the core counts a holder (a phase command arriving
     * now waits for {@link ParticipantEvent.Released}); false if the branch is no longer active here,
     * so the statement must not run (it would run outside any transaction).
     */
    synchronized boolean hold(BranchKey key) {
        feed(new ParticipantEvent.Held(key));
        return state(key).orElse(null) instanceof BranchState.Active;
    }

    synchronized Optional<BranchState> state(BranchKey key) {
        return core.state(key);
    }

    /** True when nothing for {@code key} runs or waits: no XA call queued, none awaited by the core. */
    boolean quiet(BranchKey key) {
        return queues.idle(key) && !(state(key).orElse(null) instanceof BranchState.Working);
    }

    /** Runs {@code task} once every XA call queued so far for {@code key} has run. */
    void afterQueued(BranchKey key, Runnable task) {
        queues.submit(key, task);
    }

    /** Nothing more is stepped, run or sent: the process died, or the agent was closed. */
    void stop() {
        dead = true;
        timers.values().forEach(t -> t.cancel(false));
        timers.clear();
    }

    private void timer(TimerCommand t) {
        if (t instanceof TimerCommand.Arm a) {
            try {
                timers.put(a.token(), scheduler.schedule(() -> {
                    timers.remove(a.token());
                    feed(new ParticipantEvent.TimerFired(a.key(), a.token(), nowMillis()));
                }, a.afterMillis(), TimeUnit.MILLISECONDS));
            } catch (RejectedExecutionException closed) {
                // the agent is gone: a dead agent decides nothing
            }
        } else {
            ScheduledFuture<?> f = timers.remove(t.token());
            if (f != null) {
                f.cancel(false);
            }
        }
    }

    /** Each branch's calls as one batch on its queue, in the order asked; XA RECOVER per database. */
    private void submit(List<XaCall> calls) {
        Map<BranchKey, List<XaCall>> batches = new LinkedHashMap<>();
        for (XaCall c : calls) {
            if (c.op() == XaOp.RECOVER) {
                queues.submit("recover " + c.resourceId(), () -> xa.recover(c.resourceId())
                        .ifPresent(listed -> feed(new ParticipantEvent.Recovered(c.resourceId(), listed, nowMillis()))));
            } else {
                batches.computeIfAbsent(c.key(), k -> new ArrayList<>()).add(c);
            }
        }
        batches.forEach((key, batch) -> queues.submit(key, () -> run(key, batch)));
    }

    /**
     * Runs one branch's calls up to the first that is not OK (a failed XA END with TMFAIL does not
     * stop them) and feeds the last result back. A call that failed in phase 2 or at PREPARE closes the
     * branch's session, so what follows runs by xid on a fresh one (MariaDB lets another session reach
     * a prepared branch only once the preparing one is gone); so does the branch's end.
     */
    private void run(BranchKey key, List<XaCall> batch) {
        XaOp lastOp = null;
        XaResult last = null;
        for (XaCall c : batch) {
            if (dead) {
                return;
            }
            if (last != null && last != XaResult.OK && lastOp != XaOp.END_FAIL) {
                break;
            }
            lastOp = c.op();
            last = xa.run(c);
            if (last == XaResult.OK && crashPoints.diesAfter(c.op(), key)) {
                return;
            }
        }
        if (last != XaResult.OK && (lastOp == XaOp.PREPARE || lastOp == XaOp.COMMIT || lastOp == XaOp.ROLLBACK)) {
            xa.close(key);
        }
        feed(new ParticipantEvent.XaCompleted(key, lastOp, last));
        BranchState now = state(key).orElse(null);
        if (now == null || now instanceof BranchState.Ended || now instanceof BranchState.InDoubt) {
            xa.close(key);
        }
    }
}
