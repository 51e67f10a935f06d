package dev.xatm.core.commit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where the coordinator keeps its transactions, in three places:
 * <ul>
 *   <li>live: unfinished, bounded by {@code maxLiveTxns} for new begins;</li>
 *   <li>held: finished in a way only an operator can close (a heuristic outcome, a one-phase
 *       hazard). Never forgotten by a FIFO: a heuristic is "recorded, shown as such, and never
 *       silently dropped"; an operator's Forget moves it on to the remembered ones;</li>
 *   <li>remembered: finished, in the bounded {@link FinishedMemory} (rule 11).</li>
 * </ul>
 * Insertion-ordered maps keep every walk, and thus the order of emitted messages, reproducible.
 * Not thread-safe; owned by the {@link Coordinator}.
 */
final class TxnTable {
    private final Map<String, GlobalTxn> live = new LinkedHashMap<>();
    private final Map<String, GlobalTxn> held = new LinkedHashMap<>();
    private final FinishedMemory remembered;
    private long nextSeq;

    TxnTable(int finishedMemory) {
        this.remembered = new FinishedMemory(finishedMemory);
    }

    /** The live transaction, or null. */
    GlobalTxn live(String gtrid) {
        return gtrid == null ? null : live.get(gtrid);
    }

    /** A finished transaction still known (held for an operator, or remembered), or null. */
    GlobalTxn finished(String gtrid) {
        if (gtrid == null) {
            return null;
        }
        GlobalTxn t = held.get(gtrid);
        return t != null ? t : remembered.get(gtrid);
    }

    /** Live or finished, or null: null means presumed aborted. */
    GlobalTxn find(String gtrid) {
        GlobalTxn t = live(gtrid);
        return t != null ? t : finished(gtrid);
    }

    void addLive(GlobalTxn t) {
        t.seq(nextSeq++);
        live.put(t.gtrid(), t);
    }

    /** A finished transaction rebuilt from the log. */
    void addRemembered(GlobalTxn t) {
        t.seq(nextSeq++);
        remembered.remember(t);
    }

    /** Moves a transaction that just finished out of the live ones: to the held ones if it needs an operator. */
    void retireIfFinished(GlobalTxn t) {
        if (!t.isFinished()) {
            return;
        }
        live.remove(t.gtrid());
        if (t.state().status.needsOperator() && t.acknowledgedBy() == null) {
            held.put(t.gtrid(), t);
        } else {
            remembered.remember(t);
        }
    }

    /** A remembered transaction heard of a heuristic after it finished: hold it again for an operator. */
    void hold(GlobalTxn t) {
        remembered.forget(t.gtrid());
        held.put(t.gtrid(), t);
    }

    /** An operator forgot a held transaction: it is remembered like any finished one from now on. */
    void release(GlobalTxn t) {
        if (held.remove(t.gtrid()) != null) {
            remembered.remember(t);
        }
    }

    int liveCount() {
        return live.size();
    }

    int heldCount() {
        return held.size();
    }

    Collection<GlobalTxn> liveTxns() {
        return live.values();
    }

    /** A copy to walk while transactions finish and leave the live ones. */
    List<GlobalTxn> liveSnapshot() {
        return new ArrayList<>(live.values());
    }

    /** Every transaction known: live, held, remembered. */
    void forEach(Consumer<GlobalTxn> action) {
        live.values().forEach(action);
        held.values().forEach(action);
        remembered.forEach(action);
    }

    /** Held ones and live ones: the only candidates for the in-doubt list. */
    void forEachUnsettled(Consumer<GlobalTxn> action) {
        live.values().forEach(action);
        held.values().forEach(action);
    }
}
