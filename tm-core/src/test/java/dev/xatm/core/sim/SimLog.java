package dev.xatm.core.sim;

import dev.xatm.core.LogRecord;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The coordinator's log with a disk under it. An append becomes durable after a random latency,
 * in order (a later append is never durable before an earlier one, as with one file and fsync).
 * A crash keeps what is durable; of the rest, a random prefix may have reached the disk anyway,
 * the next append may be left torn (the reader must skip it, as the file store's checksums do),
 * and everything after is lost.
 */
final class SimLog implements Invariants.Decisions {
    private static final class Entry {
        final LogRecord record;
        final long durableAt;
        boolean durable;

        Entry(LogRecord record, long durableAt) {
            this.record = record;
            this.durableAt = durableAt;
        }
    }

    private final SplittableRandom random;
    private final SimOptions options;
    private final List<Entry> entries = new ArrayList<>();
    /** Index of the first entry not yet durable. */
    private int durablePrefix;
    private long lastDurableAt;
    private boolean held;
    private int tornTails;
    private final Map<String, LogRecord.Decision> durableDecisions = new HashMap<>();
    /** 3PC: gtrids whose PRE_COMMIT record is durable (no PRE_COMMIT may leave before). */
    private final Set<String> durablePreCommits = new HashSet<>();
    private final Set<String> appendedDecisions = new HashSet<>();

    SimLog(SplittableRandom random, SimOptions options) {
        this.random = random;
        this.options = options;
    }

    void append(LogRecord r, long now) {
        long durableAt = Math.max(lastDurableAt, now + random.nextInt(1, options.logLatencyMaxTicks() + 1));
        lastDurableAt = durableAt;
        entries.add(new Entry(r, durableAt));
        if (r instanceof LogRecord.Decision d) {
            appendedDecisions.add(d.gtrid());
        }
    }

    /**
     * Makes due appends durable; returns the records that just became durable and that the core waits
     * for ({@link LogRecord#mustBeDurable()}: decisions, and 3PC's PRE_COMMIT records), in log order.
     */
    List<LogRecord> advance(long now) {
        List<LogRecord> durableNow = new ArrayList<>();
        while (!held && durablePrefix < entries.size() && entries.get(durablePrefix).durableAt <= now) {
            markDurable(entries.get(durablePrefix++), durableNow);
        }
        return durableNow;
    }

    /** Scripted: fsync everything now. Returns the decisions made durable (the caller may "crash" before feeding them). */
    List<LogRecord> syncAll() {
        List<LogRecord> durableNow = new ArrayList<>();
        while (durablePrefix < entries.size()) {
            markDurable(entries.get(durablePrefix++), durableNow);
        }
        return durableNow;
    }

    /** Scripted: stop (or resume) durability, like an fsync that hangs. */
    void hold(boolean held) {
        this.held = held;
    }

    private void markDurable(Entry e, List<LogRecord> durableNow) {
        e.durable = true;
        if (e.record instanceof LogRecord.Decision d) {
            durableDecisions.putIfAbsent(d.gtrid(), d);
        } else if (e.record instanceof LogRecord.PreCommit p) {
            durablePreCommits.add(p.gtrid());
        }
        if (e.record.mustBeDurable()) {
            durableNow.add(e.record);
        }
    }

    /** The coordinator crashed: decide what of the unsynced tail the disk kept. */
    void crash(boolean mayKeepUnsynced) {
        int unsynced = entries.size() - durablePrefix;
        int kept = 0;
        if (mayKeepUnsynced && unsynced > 0 && random.nextDouble() < options.crashKeepsUnsyncedProbability()) {
            kept = random.nextInt(unsynced + 1);
        }
        for (int i = 0; i < kept; i++) {
            // Reached the disk without an fsync: as durable as anything from now on.
            markDurable(entries.get(durablePrefix++), new ArrayList<>());
        }
        if (durablePrefix < entries.size() && random.nextDouble() < options.tornTailProbability()) {
            tornTails++; // a partial record at the tail: the reader skips it, so it is as good as lost
        }
        entries.subList(durablePrefix, entries.size()).clear();
        lastDurableAt = 0;
    }

    /** What a restarted coordinator reads back: durable records only, torn tail skipped. */
    List<LogRecord> recover() {
        List<LogRecord> records = new ArrayList<>(durablePrefix);
        for (int i = 0; i < durablePrefix; i++) {
            records.add(entries.get(i).record);
        }
        return records;
    }

    @Override
    public LogRecord.Decision durableDecision(String gtrid) {
        return durableDecisions.get(gtrid);
    }

    @Override
    public boolean durablePreCommit(String gtrid) {
        return durablePreCommits.contains(gtrid);
    }

    @Override
    public boolean everAppendedDecision(String gtrid) {
        return appendedDecisions.contains(gtrid);
    }

    boolean hasUnsynced() {
        return durablePrefix < entries.size();
    }

    int tornTails() {
        return tornTails;
    }

    int size() {
        return entries.size();
    }
}
