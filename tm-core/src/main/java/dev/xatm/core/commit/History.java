package dev.xatm.core.commit;

import dev.xatm.core.view.HistoryEntry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The recent history of one transaction, for the admin API: the last {@link #CAPACITY} entries,
 * oldest dropped first and counted. Bounded because a transaction may live long (phase 2 never
 * gives up) and see many events; the timestamps that matter (begun, decided, finished) are kept on
 * the transaction itself, so dropping old entries loses detail, never those.
 *
 * <p>Kept in memory only: a restart starts a new history (with a RESTORED entry) from the durable
 * decision record. Not thread-safe; owned by its {@link GlobalTxn}.
 */
final class History {
    static final int CAPACITY = 64;

    private final ArrayDeque<HistoryEntry> entries = new ArrayDeque<>();
    private int dropped;

    void add(long atMillis, HistoryEntry.Kind kind, String bqual, String detail) {
        if (entries.size() == CAPACITY) {
            entries.removeFirst();
            dropped++;
        }
        entries.addLast(new HistoryEntry(atMillis, kind, bqual, detail));
    }

    List<HistoryEntry> entries() {
        return new ArrayList<>(entries);
    }

    int dropped() {
        return dropped;
    }
}
