package dev.xatm.core.commit;

import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Protocol;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * Rebuilds open transactions from durable log records: a restart's own log ({@link Coordinator#restore})
 * and the open records of a node this server took over on a shared store ({@link Event.Adopted}).
 * Both rebuild exactly alike: a COMMIT decision resumes phase 2, a 3PC PRE_COMMIT without a decision
 * is asked again (never presumed aborted), a logged abort resumes the rollback, a heuristic rollback
 * is held. Part of {@link Coordinator}; same thread as its {@code step}, not thread-safe.
 */
final class LogRebuild {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    private final LongSupplier clock;

    LogRebuild(CoordinatorConfig config, TxnTable txns, LongSupplier clock) {
        this.config = config;
        this.txns = txns;
        this.clock = clock;
    }

    private long now() {
        return clock.getAsLong();
    }

    /**
     * One open transaction of the log, rebuilt as after a restart: phase 2 resumes (COMMIT, or the
     * 3PC re-ask or rollback), or a heuristic rollback is held. {@code origin} prefixes its history
     * note ("" after a restart, "adopted from ...: " after a takeover).
     */
    void restoreOpen(LogReplay replay, String gtrid, String origin) {
        LogRecord.Heuristics h = replay.heuristics.get(gtrid);
        if (h != null) {
            // A rollback a database partly overrode: held for an operator, whatever else the log has.
            txns.addLive(RestoredTxns.heuristic(h).restoredAt(now(), origin + "rolled back (" + h.decided()
                    + ") with heuristic branches reported before the restart: held until an operator forgets it"));
            txns.retireIfFinished(txns.live(gtrid));
            return;
        }
        restoreOpen(gtrid, replay.decisions.get(gtrid), replay.preCommits.get(gtrid), replay.aborted.contains(gtrid), origin);
    }

    private void restoreOpen(String gtrid, LogRecord.Decision d, LogRecord.PreCommit p, boolean aborted, String origin) {
        if (d == null && aborted) {
            // 3PC, aborted after its PRE_COMMIT record: the rollback resumes. (If the Aborted record had
            // been lost, asking the branches again would find one that is not prepared and abort again.)
            GlobalTxn t = RestoredTxns.rollingBack(gtrid, p.name(), p.branches());
            for (BranchProgress b : t.branches()) {
                b.rollback(config, now());
            }
            txns.addLive(t.restoredAt(now(), origin + "PRE_COMMIT record and a rollback decision: ROLLBACK resumes to "
                    + t.branchCount() + " branch(es)"));
            return;
        }
        if (d == null) {
            // 3PC, undecided after PRE_COMMIT: never presume abort here, a participant may have committed
            // on its own. Ask every branch again; their answers decide (ThreePhase).
            GlobalTxn t = RestoredTxns.preCommit(gtrid, p.name(), p.branches());
            for (BranchProgress b : t.branches()) {
                b.preCommit(config, now());
            }
            txns.addLive(t.restoredAt(now(), origin + "PRE_COMMIT record without a decision: PRE_COMMIT resent to "
                    + t.branchCount() + " branch(es); their answers decide"));
            return;
        }
        GlobalTxn t = RestoredTxns.committing(gtrid, d.name(), p == null ? Protocol.TWO_PHASE : Protocol.THREE_PHASE,
                d.branches());
        if (t.branchCount() == 0) {
            // We never log a decision without a YES branch; if one appears, nothing is left to do.
            txns.addRemembered(RestoredTxns.finished(gtrid, d.name(), List.of())
                    .restoredAt(now(), origin + "COMMITTED; its decision record names no branch"));
            return;
        }
        for (BranchProgress b : t.branches()) {
            b.commit(config, now());
        }
        t.restoredAt(now(), origin + "durable COMMIT decision without completion: phase 2 resumes, COMMIT to "
                + t.branchCount() + " branch(es)");
        txns.addLive(t);
    }

    /**
     * The open records of a node this server took over, rebuilt as {@link #restore} rebuilds its own.
     * Their branches are pending and due at once, so their commands go out on the next Tick or
     * AgentConnected, exactly as after a restart. Completed records only end an open one of the same
     * batch: a finished transaction of another node is not ours to remember. A gtrid already known here
     * is skipped rather than rebuilt over what this coordinator is doing with it.
     */
    void onAdopted(Event.Adopted e) {
        LogReplay replay = LogReplay.of(e.records());
        for (String gtrid : replay.open) {
            if (txns.find(gtrid) != null) {
                continue;
            }
            restoreOpen(replay, gtrid, "adopted from " + e.from() + ": ");
        }
    }
}
