package dev.xatm.client.agent;

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

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Drives one {@link Participant} (the agent's protocol rules) in the real world, as the simulation's
 * thin driver does in a simulated one: it feeds one event at a time to the core and carries out the
 * effects of each step, in the order the core documents: the journal (durable first), the timers, the
 * XA calls (whose results are fed back as further events), the messages, the problems. When a branch's
 * XA calls leave it ended, its connection is let go of ({@link Ports#ended}).
 *
 * <p>Threading: any thread may {@link #drive} an event (a business thread letting go of a branch, a
 * stream's reader, a timer). The lock is held only for {@link Participant#step}: no XA call, no I/O
 * and no message runs under it, so a slow database never blocks another branch. That is safe because
 * the core marks a branch as working while its XA calls run (a command for it meanwhile is left for the
 * coordinator's resend) and emits a vote or an acknowledgement only from the result of those calls.
 *
 * <p>The world is {@link Ports}: what XA call runs where, how a message reaches its server, how timers
 * and the journal are kept. This class decides nothing.
 */
final class ParticipantDriver {

    /** What the driver does to the world. Implementations must not call back into {@link #drive}. */
    interface Ports {
        /** Records the participant's own decisions durably; returns only once they are. */
        void journal(List<OwnDecision> decisions);

        /** Fires {@link ParticipantEvent.TimerFired} with the arm's token after its delay (see {@link #fired}). */
        void arm(TimerCommand.Arm arm);

        /** The timer is no longer needed; firing it anyway is harmless. */
        void cancel(TimerCommand.Cancel cancel);

        /**
         * Runs one XA call of a branch (never {@link XaOp#RECOVER}) and names its outcome. Never throws:
         * a failure the driver cannot name is {@link XaResult#UNAVAILABLE}.
         */
        XaResult run(XaCall call);

        /** XA RECOVER on one resource: the branches it lists; empty when the listing failed (the next sweep tries again). */
        Optional<List<BranchKey>> recover(String resourceId);

        /** Sends {@code message} on the stream of coordinator node {@code server} (dropped while it is closed). */
        void send(String server, Event message);

        /** A command the protocol never sends, left unanswered: logged. */
        void problem(String description);

        /**
         * The core ended the branch (or forgot it) after its XA calls: its connection goes back to the pool
         * when {@code clean} (every call of the last batch succeeded; a ROLLBACK that found the branch gone
         * counts as success), else it is evicted.
         */
        void ended(BranchKey key, boolean clean);
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Participant core;
    private final Ports ports;
    private final LongSupplier clockMillis;

    ParticipantDriver(Participant core, Ports ports, LongSupplier clockMillis) {
        this.core = core;
        this.ports = ports;
        this.clockMillis = clockMillis;
    }

    /**
     * Steps the core with {@code first} and with every XA result and recovery listing that follows from
     * it, carrying out each step's effects. Returns the answers addressed to the calling thread (a
     * {@link ParticipantEvent.CallerCommand}'s vote or acknowledgement), in the order given.
     */
    List<Event> drive(ParticipantEvent first) {
        List<Event> toCaller = List.of();
        Deque<ParticipantEvent> queue = new ArrayDeque<>(2);
        Map<BranchKey, Boolean> cleanBatches = new HashMap<>(2);
        queue.add(first);
        while (!queue.isEmpty()) {
            ParticipantEvent e = queue.poll();
            ParticipantEffects fx;
            if (e instanceof ParticipantEvent.XaCompleted done) {
                boolean ended;
                lock.lock();
                try {
                    fx = core.step(done);
                    ended = core.state(done.key()).map(s -> s instanceof BranchState.Ended).orElse(true);
                } finally {
                    lock.unlock();
                }
                if (ended) {
                    ports.ended(done.key(), cleanBatches.getOrDefault(done.key(), false));
                }
            } else {
                fx = step(e);
            }
            if (fx.isEmpty()) {
                continue;
            }
            if (!fx.journal().isEmpty()) {
                ports.journal(fx.journal());
            }
            for (TimerCommand t : fx.timers()) {
                if (t instanceof TimerCommand.Arm a) {
                    ports.arm(a);
                } else {
                    ports.cancel((TimerCommand.Cancel) t);
                }
            }
            runXa(fx.xa(), queue, cleanBatches);
            for (Outgoing m : fx.messages()) {
                if (m.toCaller()) {
                    if (toCaller.isEmpty()) {
                        toCaller = new ArrayList<>(1);
                    }
                    toCaller.add(m.message());
                } else {
                    ports.send(m.server(), m.message());
                }
            }
            fx.problems().forEach(ports::problem);
        }
        return toCaller;
    }

    /** A timer armed through {@link Ports#arm} ran out. */
    void fired(TimerCommand.Arm arm) {
        drive(new ParticipantEvent.TimerFired(arm.key(), arm.token(), clockMillis.getAsLong()));
    }

    private ParticipantEffects step(ParticipantEvent e) {
        lock.lock();
        try {
            return core.step(e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs the calls of each branch in order up to the first whose result is not OK (a failed
     * {@link XaOp#END_FAIL} does not stop them: it never matters), and queues one
     * {@link ParticipantEvent.XaCompleted} per branch for the last call that ran; XA RECOVER's listing
     * is queued as {@link ParticipantEvent.Recovered}.
     */
    private void runXa(List<XaCall> calls, Deque<ParticipantEvent> results, Map<BranchKey, Boolean> cleanBatches) {
        if (calls.isEmpty()) {
            return;
        }
        Map<BranchKey, List<XaCall>> byBranch = new LinkedHashMap<>();
        for (XaCall c : calls) {
            if (c.op() == XaOp.RECOVER) {
                ports.recover(c.resourceId()).ifPresent(listed ->
                        results.add(new ParticipantEvent.Recovered(c.resourceId(), listed, clockMillis.getAsLong())));
            } else {
                byBranch.computeIfAbsent(c.key(), k -> new ArrayList<>(2)).add(c);
            }
        }
        byBranch.forEach((key, branchCalls) -> {
            XaOp lastOp = null;
            XaResult last = null;
            boolean clean = true;
            for (XaCall c : branchCalls) {
                lastOp = c.op();
                last = ports.run(c);
                clean &= last == XaResult.OK
                        || (c.op() == XaOp.ROLLBACK && (last == XaResult.NOT_FOUND || last == XaResult.ROLLED_BACK));
                if (last != XaResult.OK && c.op() != XaOp.END_FAIL) {
                    break;
                }
            }
            cleanBatches.put(key, clean);
            results.add(new ParticipantEvent.XaCompleted(key, lastOp, last));
        });
    }

    /** The branch's state as the core sees it now; for health, metrics and tests. */
    Optional<BranchState> state(BranchKey key) {
        lock.lock();
        try {
            return core.state(key);
        } finally {
            lock.unlock();
        }
    }

    /** Every branch the core remembers; for health, metrics and tests. */
    List<BranchKey> branches() {
        lock.lock();
        try {
            return core.branches();
        } finally {
            lock.unlock();
        }
    }
}
