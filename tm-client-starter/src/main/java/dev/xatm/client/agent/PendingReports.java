package dev.xatm.client.agent;

import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * 3PC decisions the participant took on its own that no welcomed stream has carried yet (the timer
 * fired while the coordinator was unreachable): sent once the stream to the gtrid's owner is back. Sent once, not on every reconnect: after that the branch's
 * own memory answers every command the coordinator still resends with the same report. Bounded like
 * the finished-branch memory; the oldest is dropped first (its branch still answers commands).
 * Thread-safe.
 */
final class PendingReports {
    private static final Logger log = LoggerFactory.getLogger(PendingReports.class);

    private final int capacity;
    private final Map<TmXid, BranchCommand> pending = new LinkedHashMap<>(); // guarded by this

    PendingReports(int capacity) {
        this.capacity = capacity;
    }

    synchronized void add(TmXid xid, BranchCommand decision) {
        pending.put(xid, decision);
        Iterator<TmXid> oldest = pending.keySet().iterator();
        while (pending.size() > capacity) {
            log.warn("More than {} unreported own decisions; {} is reported only in answer to the coordinator's next command for it",
                    capacity, oldest.next());
            oldest.remove();
        }
    }

    /** Takes every pending report. */
    synchronized Map<TmXid, BranchCommand> drain() {
        Map<TmXid, BranchCommand> out = new LinkedHashMap<>(pending);
        pending.clear();
        return out;
    }

    /** Takes the pending reports {@code which} accepts (those whose owner's link is connected). */
    synchronized Map<TmXid, BranchCommand> drainIf(java.util.function.Predicate<TmXid> which) {
        Map<TmXid, BranchCommand> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<TmXid, BranchCommand>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<TmXid, BranchCommand> e = it.next();
            if (which.test(e.getKey())) {
                out.put(e.getKey(), e.getValue());
                it.remove();
            }
        }
        return out;
    }

    synchronized int size() {
        return pending.size();
    }
}
