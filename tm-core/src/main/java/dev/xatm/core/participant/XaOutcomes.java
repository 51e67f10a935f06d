package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.Asker;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.InDoubt;
import dev.xatm.core.participant.BranchState.Prepared;
import dev.xatm.core.participant.BranchState.Willing;
import dev.xatm.core.participant.BranchState.Working;

/**
 * What an XA result means for a branch whose calls were running ({@link Working}), and what is
 * answered. The one place that reads {@link XaResult}: XAER_NOTA is done on ROLLBACK, and on COMMIT
 * only by xid (the decision is COMMIT, since a COMMIT comes only after a YES, and the branch was
 * prepared); on the connection that prepared it, NOTA means the branch vanished without our commit.
 * Stateless; called by {@link Participant} within one step.
 */
final class XaOutcomes {

    void completed(Tracked t, Working w, XaOp op, XaResult r, Out out) {
        Asker asker = w.asker();
        switch (w.purpose()) {
            case PREPARE, PRE_COMMIT -> {
                Action answering = w.purpose() == BranchState.Purpose.PRE_COMMIT ? Action.PRE_COMMIT : Action.PREPARE;
                if (op == XaOp.PREPARE && r == XaResult.OK) {
                    long timer = answering == Action.PRE_COMMIT ? out.arm(t, w.participantTimeoutMillis()) : 0;
                    t.state = new Prepared(timer, false, asker.caller());
                    out.vote(t, asker, answering, Vote.YES);
                } else if (op == XaOp.PREPARE && r == XaResult.UNAVAILABLE) {
                    // The database may have prepared it and lost only the answer: still a NO (nobody may
                    // commit on it), and rolled back by xid on another connection until that succeeds.
                    t.state = new Working(BranchState.Purpose.ROLLBACK, Asker.NOBODY, 0, new InDoubt());
                    out.xa(t, XaOp.ROLLBACK);
                    out.vote(t, asker, answering, Vote.NO);
                } else {
                    rollBackVotingNo(t, op, asker, answering, out);
                }
            }
            case CAN_COMMIT -> {
                if (r == XaResult.OK) {
                    t.state = new Willing(out.arm(t, w.participantTimeoutMillis()));
                    out.vote(t, asker, Action.CAN_COMMIT, Vote.YES);
                } else {
                    rollBackVotingNo(t, op, asker, Action.CAN_COMMIT, out);
                }
            }
            case READ_ONLY_PREPARE, READ_ONLY_CAN_COMMIT -> {
                Action answering = w.purpose() == BranchState.Purpose.READ_ONLY_PREPARE ? Action.PREPARE : Action.CAN_COMMIT;
                if (op == XaOp.COMMIT_ONE_PHASE && r == XaResult.OK) {
                    t.state = new Ended(End.READ_ONLY);
                    out.vote(t, asker, answering, Vote.READ_ONLY);
                } else {
                    rollBackVotingNo(t, op, asker, answering, out);
                }
            }
            case COMMIT_ONE_PHASE -> onePhase(t, op, r, asker, out);
            case COMMIT -> commit(t, w, r, asker, out);
            case ROLLBACK -> rollback(t, w, r, asker, out);
            case OWN_COMMIT, OWN_ROLLBACK -> own(t, w, r, out);
        }
    }

    private void onePhase(Tracked t, XaOp op, XaResult r, Asker asker, Out out) {
        if (op == XaOp.COMMIT_ONE_PHASE && r == XaResult.OK) {
            t.state = new Ended(End.COMMITTED);
            out.ack(t, asker, Action.COMMIT_ONE_PHASE, AckResult.DONE);
        } else if (op == XaOp.COMMIT_ONE_PHASE && r.isHeuristic()) {
            endHeuristically(t, r, asker, Action.COMMIT_ONE_PHASE, out);
        } else if (op == XaOp.COMMIT_ONE_PHASE && r == XaResult.UNAVAILABLE) {
            // the commit may or may not have happened: never guess; the coordinator reports a hazard
            t.state = new Ended(End.UNKNOWN);
            out.problem(t, "one-phase commit lost its connection: outcome unknown, not acknowledged");
        } else {
            if (op == XaOp.END || r == XaResult.FAILED) {
                out.xa(t, XaOp.ROLLBACK); // settle what is left; the session's end does it otherwise
            }
            t.state = new Ended(End.ROLLED_BACK);
            out.ack(t, asker, Action.COMMIT_ONE_PHASE, AckResult.ROLLED_BACK_INSTEAD);
        }
    }

    private void commit(Tracked t, Working w, XaResult r, Asker asker, Out out) {
        boolean byXid = w.before() instanceof Prepared p && p.byXid();
        switch (r) {
            case OK -> {
                t.state = new Ended(End.COMMITTED);
                out.ack(t, asker, Action.COMMIT, AckResult.DONE);
            }
            case NOT_FOUND -> {
                if (byXid) {
                    t.state = new Ended(End.COMMITTED); // committed before (its answer lost, or before a restart)
                    out.ack(t, asker, Action.COMMIT, AckResult.DONE);
                } else {
                    // the connection that prepared it never committed it: it vanished (rolled back by hand, say)
                    endHeuristically(t, XaResult.HEURISTIC_HAZARD, asker, Action.COMMIT, out);
                }
            }
            case UNAVAILABLE, FAILED, ROLLED_BACK ->
                    // still prepared in the database (or we cannot tell): retried by xid on the next COMMIT
                    t.state = new Prepared(0, true, false);
            default -> endHeuristically(t, r, asker, Action.COMMIT, out);
        }
    }

    private void rollback(Tracked t, Working w, XaResult r, Asker asker, Out out) {
        if (r.isHeuristic()) {
            endHeuristically(t, r, asker, Action.ROLLBACK, out);
            return;
        }
        if (r == XaResult.UNAVAILABLE || r == XaResult.FAILED) {
            if (w.before() instanceof Prepared) {
                t.state = new Prepared(0, true, false); // retried by xid on the next ROLLBACK
                return;
            }
            if (w.before() instanceof InDoubt) {
                t.state = new InDoubt(); // retried at the next sweep
                return;
            }
            // never prepared: its session's end rolls it back
        }
        t.state = new Ended(End.ROLLED_BACK);
        out.ack(t, asker, Action.ROLLBACK, AckResult.DONE);
    }

    /** 3PC's own decision ran (it was journaled before): reported whatever the call said, and retried by recovery. */
    private void own(Tracked t, Working w, XaResult r, Out out) {
        Action decision = w.purpose() == BranchState.Purpose.OWN_COMMIT ? Action.COMMIT : Action.ROLLBACK;
        if (r.isHeuristic()) {
            t.state = new Ended(End.of(r));
            return; // reported when a coordinator asks (XA RECOVER lists it)
        }
        if (r == XaResult.UNAVAILABLE || r == XaResult.FAILED) {
            out.problem(t, "own " + decision + " did not run (" + r + "): retried when XA RECOVER lists the branch");
        }
        // reported by the participant, once (see Participant#reportOnce)
        t.state = new Ended(decision == Action.COMMIT ? End.COMMITTED_ON_ITS_OWN : End.ROLLED_BACK_ON_ITS_OWN);
    }

    /** Phase 1 failed at {@code failed}: roll back (with XA END first if that was what failed) and vote NO. */
    private static void rollBackVotingNo(Tracked t, XaOp failed, Asker asker, Action answering, Out out) {
        Commands.rollBackVotingNo(t, failed == XaOp.END || failed == XaOp.END_CHECKED, asker, answering, out);
    }

    private static void endHeuristically(Tracked t, XaResult r, Asker asker, Action action, Out out) {
        t.state = new Ended(End.of(r));
        out.ack(t, asker, action, End.of(r).heuristic());
    }
}
