package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The participant's half of three-phase commit's timeouts, as the literature states them:
 * after a YES to CAN_COMMIT, no PRE_COMMIT (or ROLLBACK) within the command's
 * {@code participant_timeout_ms} and the branch is rolled back; after a YES to PRE_COMMIT (it is
 * prepared), no COMMIT or ROLLBACK within it and the branch is committed, both on the participant's
 * own authority.
 *
 * <p>Race-free through the branch's lock, which already serialises its commands: {@link #afterCommand}
 * runs under it, and so does the expiry's check that its token is still the armed one
 * ({@link Branch#timerDue}). A timer that fires while its command is being handled waits for the lock,
 * then finds its token gone and does nothing.
 *
 * <p>Expired timers run on this class's own threads, not the agent's command pool: they are rare
 * (they mean the coordinator failed) and must not be dropped when a burst of commands fills that pool.
 */
final class ParticipantTimers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ParticipantTimers.class);

    /** What runs when an armed timer's time is up. */
    interface Expiry {
        void expired(Branch branch, long token);
    }

    private final ScheduledThreadPoolExecutor clock;
    private final Expiry expiry;
    /**
     * The scheduled expiry of each branch's armed timer, so that disarming takes it off the clock's
     * queue: every 3PC branch arms one or two, and a queue of disarmed ones waiting out their 30 s
     * would grow with the commit rate.
     */
    private final ConcurrentHashMap<Branch, Armed> armed = new ConcurrentHashMap<>();

    private record Armed(long token, ScheduledFuture<?> expiry) {}

    ParticipantTimers(Expiry expiry) {
        this.expiry = expiry;
        AtomicInteger n = new AtomicInteger();
        this.clock = new ScheduledThreadPoolExecutor(2, r -> {
            Thread t = new Thread(r, "tm-agent-timer-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        clock.setRemoveOnCancelPolicy(true);
        clock.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * The timer rules, applied right after {@code command} ran on {@code b} and got {@code answer};
     * the caller holds {@code b}'s lock.
     */
    void afterCommand(Branch b, BranchCommand command, BranchAnswer answer) {
        switch (command) {
            // a resent CAN_COMMIT restarts the wait; one that reaches a prepared branch leaves its timer alone
            case CAN_COMMIT -> {
                if (answer == BranchAnswer.VOTE_YES && b.state() == Branch.State.WILLING) {
                    arm(b, b.participantTimeoutMillis());
                }
            }
            case PRE_COMMIT -> {
                disarm(b);
                if (answer == BranchAnswer.VOTE_YES && b.state() == Branch.State.PREPARED) {
                    arm(b, b.participantTimeoutMillis());
                }
            }
            // COMMIT and ROLLBACK are what the timers wait for (2PC's commands never arm one)
            default -> disarm(b);
        }
    }

    /** No timer of {@code b} may fire any more; the caller holds {@code b}'s lock. */
    private void disarm(Branch b) {
        b.disarmTimer();
        Armed previous = armed.remove(b);
        if (previous != null) {
            previous.expiry().cancel(false);
        }
    }

    /** Arms (or re-arms) {@code b}'s timer to expire in {@code delayMillis}; the caller holds {@code b}'s lock. */
    void arm(Branch b, long delayMillis) {
        if (delayMillis <= 0) {
            log.warn("No participant timeout for branch {} (the coordinator sent none): it waits for the coordinator", b);
            disarm(b);
            return;
        }
        disarm(b);
        long token = b.armTimer();
        try {
            ScheduledFuture<?> f = clock.schedule(() -> {
                armed.computeIfPresent(b, (branch, a) -> a.token() == token ? null : a);
                expiry.expired(b, token);
            }, delayMillis, TimeUnit.MILLISECONDS);
            armed.put(b, new Armed(token, f));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            log.debug("agent closing: timer of {} not armed", b);
        }
    }

    /** Timers waiting now (armed and not yet fired); for tests. */
    int pending() {
        return clock.getQueue().size();
    }

    @Override
    public void close() {
        armed.clear();
        clock.shutdownNow();
    }
}
