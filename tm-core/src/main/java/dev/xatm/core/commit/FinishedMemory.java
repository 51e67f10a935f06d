package dev.xatm.core.commit;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Finished transactions, remembered so that a repeated commit, a late vote or an inquiry gets the
 * real outcome rather than "unknown" (rule 11). Bounded FIFO: the oldest is forgotten first, and a
 * forgotten one is presumed aborted like any unknown gtrid, which is why the bound should cover
 * the time clients and agents take to retry. Not thread-safe.
 */
final class FinishedMemory {
    private final int capacity;
    private final Map<String, GlobalTxn> byGtrid = new LinkedHashMap<>();

    FinishedMemory(int capacity) {
        this.capacity = capacity;
    }

    void remember(GlobalTxn t) {
        if (!t.isFinished()) {
            throw new IllegalStateException("transaction " + t.gtrid() + ": cannot remember as finished in state " + t.state());
        }
        // Re-insert so that a transaction finished again after a restart counts as the newest.
        byGtrid.remove(t.gtrid());
        byGtrid.put(t.gtrid(), t);
        Iterator<GlobalTxn> oldestFirst = byGtrid.values().iterator();
        while (byGtrid.size() > capacity) {
            oldestFirst.next();
            oldestFirst.remove();
        }
    }

    GlobalTxn get(String gtrid) {
        return byGtrid.get(gtrid);
    }

    void forget(String gtrid) {
        byGtrid.remove(gtrid);
    }

    void forEach(Consumer<GlobalTxn> action) {
        byGtrid.values().forEach(action);
    }

    int size() {
        return byGtrid.size();
    }
}
