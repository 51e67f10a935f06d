package dev.xatm.client.enlist;

import dev.xatm.protocol.TmXid;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * Every branch this application instance holds, by xid, plus the recently finished ones (bounded)
 * so a resent command gets the same answer. The live ones are also indexed by (gtrid, resource):
 * one branch per global transaction and database. Thread-safe.
 */
public final class BranchTable {
    private final Map<TmXid, Branch> byXid = new ConcurrentHashMap<>();
    private final Map<String, Branch> live = new ConcurrentHashMap<>();
    /**
     * Finished xids, oldest first. A hash set, not a list: settled() runs for every finished branch,
     * and a linear contains() over thousands of remembered xids under this lock was the agent's
     * bottleneck in the benchmark's first profile (tm-bench/NOTES.md).
     */
    private final Set<TmXid> finishedOrder = new LinkedHashSet<>(); // guarded by itself
    private final int finishedMemory;
    private volatile BiConsumer<Branch, BranchCommand> parkedCommandSink =
            (b, c) -> { throw new IllegalStateException("no agent to run " + c + " for " + b); };

    public BranchTable(int finishedMemory) {
        if (finishedMemory < 1) {
            throw new IllegalArgumentException("finishedMemory must be >= 1");
        }
        this.finishedMemory = finishedMemory;
    }

    /** Where a command parked while the branch was in use goes once it is released (the agent). */
    public void onParkedCommand(BiConsumer<Branch, BranchCommand> sink) {
        this.parkedCommandSink = sink;
    }

    void runParked(Branch b, BranchCommand c) {
        parkedCommandSink.accept(b, c);
    }

    public Branch get(TmXid xid) {
        return byXid.get(xid);
    }

    Branch live(String gtrid, String resourceId) {
        return live.get(key(gtrid, resourceId));
    }

    /** Adds a new branch; returns the one already there for its (gtrid, resource), if another thread won. */
    Branch addIfAbsent(Branch b) {
        Branch existing = live.putIfAbsent(key(b.xid().gtrid(), b.resource().resourceId()), b);
        if (existing != null) {
            return existing;
        }
        byXid.put(b.xid(), b);
        return null;
    }

    /** Called by the agent after each command: a finished branch leaves the live index and is remembered. */
    public void settled(Branch b) {
        if (!b.isFinished()) {
            return;
        }
        live.remove(key(b.xid().gtrid(), b.resource().resourceId()), b);
        synchronized (finishedOrder) {
            if (!finishedOrder.add(b.xid())) {
                return;
            }
            Iterator<TmXid> oldest = finishedOrder.iterator();
            while (finishedOrder.size() > finishedMemory) {
                byXid.remove(oldest.next());
                oldest.remove();
            }
        }
    }

    /** The branches still prepared, awaiting phase 2: re-announced on every (re)connect. */
    public List<Branch> prepared() {
        List<Branch> out = new ArrayList<>();
        for (Branch b : byXid.values()) {
            if (b.isPrepared()) {
                out.add(b);
            }
        }
        return out;
    }

    /** The branches not prepared yet (their business work may still be running, or they answered CAN_COMMIT). */
    public List<Branch> unprepared() {
        List<Branch> out = new ArrayList<>();
        for (Branch b : live.values()) {
            Branch.State s = b.state();
            if (s == Branch.State.ACTIVE || s == Branch.State.WILLING) {
                out.add(b);
            }
        }
        return out;
    }

    /** The branches of one global transaction this instance holds or remembers as finished: for diagnostics and tests. */
    public List<Branch> branchesOf(String gtrid) {
        List<Branch> out = new ArrayList<>();
        for (Branch b : byXid.values()) {
            if (b.xid().gtrid().equals(gtrid)) {
                out.add(b);
            }
        }
        return out;
    }

    /** How many branches are not finished: for health details and tests. */
    public int liveCount() {
        return live.size();
    }

    private static String key(String gtrid, String resourceId) {
        return gtrid + '\u0000' + resourceId;
    }
}
