package dev.xatm.core.commit;

import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;

import java.util.List;

/**
 * The transaction each combination of durable log records stands for (rule 12), after a restart and
 * after a takeover alike ({@link LogRebuild}): a decision resumes phase 2, a 3PC PRE_COMMIT record
 * alone is asked again, a PRE_COMMIT and an Aborted record resume the rollback, a Heuristics record
 * is held for an operator. Stateless.
 */
final class RestoredTxns {

    private RestoredTxns() {}

    /** A durable decision record: every branch voted YES and phase 2 resumes. */
    static GlobalTxn committing(String gtrid, String name, List<Branch> yesBranches) {
        return committing(gtrid, name, Protocol.TWO_PHASE, yesBranches);
    }

    static GlobalTxn committing(String gtrid, String name, Protocol protocol, List<Branch> yesBranches) {
        GlobalTxn t = GlobalTxn.restored(gtrid, name, protocol, GlobalTxn.State.COMMITTING, Outcome.COMMITTED);
        t.markDecisionLogged();
        for (Branch b : yesBranches) {
            t.addRestoredBranch(BranchProgress.restoredYes(gtrid, b));
        }
        return t;
    }

    /**
     * 3PC: a durable PRE_COMMIT record without a decision. Some branch may be prepared, or may even
     * have committed on its own after its timeout, so this coordinator must not presume abort: it
     * sends PRE_COMMIT again to every branch and decides on the answers, with no answer deadline.
     */
    static GlobalTxn preCommit(String gtrid, String name, List<Branch> willingBranches) {
        GlobalTxn t = GlobalTxn.restored(gtrid, name, Protocol.THREE_PHASE, GlobalTxn.State.PRE_COMMIT, null);
        t.markPreCommitLogged();
        for (Branch b : willingBranches) {
            t.addRestoredBranch(BranchProgress.restoredWilling(gtrid, b));
        }
        return t;
    }

    /** A rolled-back transaction held for its heuristic branches (a Heuristics record), as it was when it was logged. */
    static GlobalTxn heuristic(LogRecord.Heuristics h) {
        GlobalTxn t = GlobalTxn.restored(h.gtrid(), h.name(), Protocol.TWO_PHASE, GlobalTxn.State.FINISHED_HEURISTIC, h.decided());
        t.markHeuristicsLogged();
        for (LogRecord.BranchHeuristic bh : h.branches()) {
            BranchProgress b = new BranchProgress(h.gtrid(), bh.branch(), BranchProgress.Phase.HEURISTIC);
            b.lateHeuristic(bh.result());
            t.addRestoredBranch(b);
        }
        return t;
    }

    /** 3PC: a PRE_COMMIT record followed by an Aborted one: the rollback resumes, to every branch. */
    static GlobalTxn rollingBack(String gtrid, String name, List<Branch> willingBranches) {
        GlobalTxn t = GlobalTxn.restored(gtrid, name, Protocol.THREE_PHASE, GlobalTxn.State.ROLLING_BACK, Outcome.ROLLED_BACK);
        t.markPreCommitLogged();
        for (Branch b : willingBranches) {
            t.addRestoredBranch(BranchProgress.restoredWilling(gtrid, b));
        }
        return t;
    }

    /** A finished commit known only from a Completed record: no branches are left to answer for. */
    static GlobalTxn finished(String gtrid, String name, List<Branch> yesBranches) {
        GlobalTxn t = committing(gtrid, name, yesBranches);
        t.markRestoredFinished();
        return t;
    }
}
