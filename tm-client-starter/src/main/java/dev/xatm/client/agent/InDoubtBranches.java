package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Branches this agent holds whose last XA call lost its answer with the connection, so the database
 * may hold them prepared, with their locks: a PREPARE that did not answer (decision: rollback, the
 * branch voted NO) or a phase 2 that did not (decision: the coordinator's). Each is finished by xid on
 * a fresh connection ({@link Settler}), retried with exponential backoff until the database says it
 * is done (committed, rolled back, or gone), and never given up.
 *
 * <p>Thread-safe. Attempts run on {@code scheduler}, one at a time per branch (the settler takes the
 * branch's lock, which also orders an attempt against the coordinator's own resends).
 */
final class InDoubtBranches {
    private static final Logger log = LoggerFactory.getLogger(InDoubtBranches.class);

    /** Finishes one in-doubt branch by xid; true when the database confirms it done. */
    interface Settler {
        boolean settle(Branch b, boolean commit);
    }

    private record Entry(Branch branch, boolean commit, long sinceNanos) {}

    private final Map<TmXid, Entry> entries = new ConcurrentHashMap<>();
    private final Settler settler;
    private final ScheduledExecutorService scheduler;
    private final long backoffInitialMillis;
    private final long backoffMaxMillis;
    private final LongSupplier nanoClock;

    InDoubtBranches(Settler settler, ScheduledExecutorService scheduler, long backoffInitialMillis, long backoffMaxMillis,
                    LongSupplier nanoClock) {
        this.settler = settler;
        this.scheduler = scheduler;
        this.backoffInitialMillis = backoffInitialMillis;
        this.backoffMaxMillis = backoffMaxMillis;
        this.nanoClock = nanoClock;
    }

    /**
     * Takes {@code b} in (once; a second add while it is in changes nothing): its first attempt runs
     * at once, because the usual case (a killed session) is settled by the first fresh connection.
     */
    void add(Branch b, boolean commit) {
        Entry e = new Entry(b, commit, nanoClock.getAsLong());
        if (entries.putIfAbsent(b.xid(), e) != null) {
            return;
        }
        log.info("Branch {} is in doubt in its database; {} by xid on a fresh connection until the database confirms",
                b, commit ? "committing it" : "rolling it back");
        schedule(e, 0, backoffInitialMillis);
    }

    private void schedule(Entry e, long delayMillis, long nextDelayMillis) {
        try {
            scheduler.schedule(() -> attempt(e, nextDelayMillis), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // the agent is closing: the branch stays prepared in the database; XA RECOVER finds it after the restart
        }
    }

    private void attempt(Entry e, long delayMillis) {
        boolean done;
        try {
            done = settler.settle(e.branch(), e.commit());
        } catch (RuntimeException ex) {
            log.warn("Finishing in-doubt branch {} by xid failed unexpectedly; trying again in {} ms", e.branch(), delayMillis, ex);
            done = false;
        }
        if (done) {
            entries.remove(e.branch().xid(), e);
            log.info("In-doubt branch {} {} by xid after {} ms", e.branch(), e.commit() ? "committed" : "rolled back",
                    TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - e.sinceNanos()));
            return;
        }
        schedule(e, delayMillis, Math.min(backoffMaxMillis, delayMillis * 2));
    }

    /** How many branches are in doubt now. */
    int count() {
        return entries.size();
    }

    /** How long the oldest in-doubt branch has been so, in milliseconds; 0 when there is none. */
    long oldestAgeMillis() {
        long now = nanoClock.getAsLong();
        long oldest = 0;
        for (Entry e : entries.values()) {
            oldest = Math.max(oldest, now - e.sinceNanos());
        }
        return TimeUnit.NANOSECONDS.toMillis(oldest);
    }
}
