package dev.xatm.core.participant;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Vote;
import dev.xatm.core.participant.BranchState.Active;
import dev.xatm.core.participant.BranchState.Asker;
import dev.xatm.core.participant.BranchState.End;
import dev.xatm.core.participant.BranchState.Ended;
import dev.xatm.core.participant.BranchState.InDoubt;
import dev.xatm.core.participant.BranchState.Parked;
import dev.xatm.core.participant.BranchState.Prepared;
import dev.xatm.core.participant.BranchState.Purpose;
import dev.xatm.core.participant.BranchState.Willing;
import dev.xatm.core.participant.BranchState.Working;

/**
 * The rules for a phase command reaching a branch, whoever sent it (a coordinator's stream or the
 * application's own thread). Every command is idempotent: a resend gets the answer the first got,
 * and a participant that decided on its own answers every later command with that decision.
 * Stateless; called by {@link Participant} within one step.
 */
final class Commands {
    private final boolean readOnlyVotes;

    Commands(boolean readOnlyVotes) {
        this.readOnlyVotes = readOnlyVotes;
    }

    void run(Tracked t, Asker asker, Action a, long timeout, Out out) {
        BranchState s = t.state;
        if (s instanceof Active x) {
            active(t, x, asker, a, timeout, out);
        } else if (s instanceof Willing x) {
            willing(t, x, asker, a, timeout, out);
        } else if (s instanceof Prepared x) {
            prepared(t, x, asker, a, timeout, out);
        } else if (s instanceof InDoubt x) {
            inDoubt(t, x, asker, a, out);
        } else if (s instanceof Ended x) {
            ended(t, x.end(), asker, a, out);
        }
        // Working: XA calls are running; the command is answered by nobody now and resent by the
        // coordinator (the real agent serialises a branch's commands, so it would wait for them anyway)
    }

    private void active(Tracked t, Active s, Asker asker, Action a, long timeout, Out out) {
        if (a == Action.COMMIT) {
            out.problem(t, "COMMIT of a branch never prepared: not acknowledged");
            return;
        }
        if (s.holders() > 0) {
            // The business code uses the connection: XA END now would race its statement.
            t.state = new Active(s.holders(), s.wrote(), s.doomed(), new Parked(a, asker, timeout));
            return;
        }
        boolean readOnly = readOnlyVotes && !s.wrote();
        switch (a) {
            case PREPARE -> {
                if (s.doomed()) {
                    rollBackVotingNo(t, true, asker, a, out);
                } else {
                    work(t, readOnly ? Purpose.READ_ONLY_PREPARE : Purpose.PREPARE, asker, timeout, out,
                            XaOp.END, readOnly ? XaOp.COMMIT_ONE_PHASE : XaOp.PREPARE);
                }
            }
            case CAN_COMMIT -> {
                if (s.doomed()) {
                    rollBackVotingNo(t, true, asker, a, out);
                } else if (readOnly) {
                    work(t, Purpose.READ_ONLY_CAN_COMMIT, asker, timeout, out, XaOp.END, XaOp.COMMIT_ONE_PHASE);
                } else {
                    work(t, Purpose.CAN_COMMIT, asker, timeout, out, XaOp.END_CHECKED);
                }
            }
            // PRE_COMMIT never finishes read-only: its YES means "prepared", and the coordinator counts on it
            case PRE_COMMIT -> {
                if (s.doomed()) {
                    rollBackVotingNo(t, true, asker, a, out);
                } else {
                    work(t, Purpose.PRE_COMMIT, asker, timeout, out, XaOp.END, XaOp.PREPARE);
                }
            }
            case COMMIT_ONE_PHASE -> {
                if (s.doomed()) {
                    out.xa(t, XaOp.END_FAIL, XaOp.ROLLBACK);
                    t.state = new Ended(End.ROLLED_BACK);
                    out.ack(t, asker, a, AckResult.ROLLED_BACK_INSTEAD);
                } else {
                    work(t, Purpose.COMMIT_ONE_PHASE, asker, timeout, out, XaOp.END, XaOp.COMMIT_ONE_PHASE);
                }
            }
            case ROLLBACK -> work(t, Purpose.ROLLBACK, asker, timeout, out, XaOp.END_FAIL, XaOp.ROLLBACK);
            default -> throw new IllegalStateException("unreachable: " + a);
        }
    }

    private void willing(Tracked t, Willing s, Asker asker, Action a, long timeout, Out out) {
        switch (a) {
            case CAN_COMMIT -> {
                // a resent CAN_COMMIT restarts the wait
                out.cancel(t, s.timer());
                t.state = new Willing(out.arm(t, timeout));
                out.vote(t, asker, a, Vote.YES);
            }
            case PRE_COMMIT, PREPARE -> {
                out.cancel(t, s.timer());
                work(t, a == Action.PRE_COMMIT ? Purpose.PRE_COMMIT : Purpose.PREPARE, asker, timeout, out, XaOp.PREPARE);
            }
            case ROLLBACK -> {
                out.cancel(t, s.timer());
                work(t, Purpose.ROLLBACK, asker, timeout, out, XaOp.ROLLBACK);
            }
            default -> out.problem(t, a + " of a branch that only answered CAN_COMMIT: not acknowledged");
        }
    }

    private void prepared(Tracked t, Prepared s, Asker asker, Action a, long timeout, Out out) {
        switch (a) {
            case PREPARE, CAN_COMMIT -> {
                t.state = new Prepared(s.timer(), s.byXid(), s.inCaller() || asker.caller());
                out.vote(t, asker, a, Vote.YES);
            }
            case PRE_COMMIT -> {
                // a resent PRE_COMMIT restarts the wait, as the first one started it
                out.cancel(t, s.timer());
                t.state = new Prepared(out.arm(t, timeout), s.byXid(), s.inCaller() || asker.caller());
                out.vote(t, asker, a, Vote.YES);
            }
            case COMMIT, ROLLBACK -> {
                out.cancel(t, s.timer());
                work(t, a == Action.COMMIT ? Purpose.COMMIT : Purpose.ROLLBACK, asker, timeout, out,
                        new Prepared(0, s.byXid(), false), a == Action.COMMIT ? XaOp.COMMIT : XaOp.ROLLBACK);
            }
            default -> out.problem(t, "COMMIT_ONE_PHASE of a prepared branch: not acknowledged");
        }
    }

    private void inDoubt(Tracked t, InDoubt s, Asker asker, Action a, Out out) {
        switch (a) {
            case PREPARE, CAN_COMMIT, PRE_COMMIT -> out.vote(t, asker, a, Vote.NO); // as it voted
            case ROLLBACK -> work(t, Purpose.ROLLBACK, asker, 0, out, s, XaOp.ROLLBACK);
            default -> out.problem(t, a + " of a branch that voted NO: not acknowledged");
        }
    }

    private void ended(Tracked t, End end, Asker asker, Action a, Out out) {
        Action own = end.ownDecision();
        if (own != null) {
            out.ownDecision(t, asker, own); // whatever is asked now, this is what happened
            return;
        }
        boolean phaseOne = a == Action.PREPARE || a == Action.CAN_COMMIT || a == Action.PRE_COMMIT;
        AckResult heuristic = end.heuristic();
        if (heuristic != null) {
            if (phaseOne) {
                // A late duplicate: a branch ends heuristically only in phase 2 (its own decision re-run by
                // xid included), after it told an outcome; any vote now could contradict that. Silence.
                return;
            } else {
                out.ack(t, asker, a, heuristic);
            }
            return;
        }
        switch (end) {
            case READ_ONLY -> {
                if (phaseOne) {
                    // PRE_COMMIT: nothing left to lose, so it is as good as prepared
                    out.vote(t, asker, a, a == Action.PRE_COMMIT ? Vote.YES : Vote.READ_ONLY);
                } else {
                    out.ack(t, asker, a, AckResult.DONE); // nothing to commit or undo
                }
            }
            case COMMITTED -> {
                if (phaseOne) {
                    out.vote(t, asker, a, Vote.YES); // a late duplicate
                } else if (a == Action.ROLLBACK) {
                    out.problem(t, "ROLLBACK of a committed branch: not acknowledged (heuristic hazard)");
                } else {
                    out.ack(t, asker, a, AckResult.DONE);
                }
            }
            case ROLLED_BACK -> {
                if (phaseOne) {
                    out.vote(t, asker, a, Vote.NO);
                } else if (a == Action.COMMIT) {
                    out.problem(t, "COMMIT of a rolled-back branch: not acknowledged (heuristic hazard)");
                } else {
                    out.ack(t, asker, a, a == Action.COMMIT_ONE_PHASE ? AckResult.ROLLED_BACK_INSTEAD : AckResult.DONE);
                }
            }
            default -> { } // UNKNOWN: a one-phase commit that lost its connection; never guess
        }
    }

    /** Phase 1 cannot succeed: roll back now (the locks go at once) and vote NO. */
    static void rollBackVotingNo(Tracked t, boolean active, Asker asker, Action answering, Out out) {
        if (active) {
            out.xa(t, XaOp.END_FAIL, XaOp.ROLLBACK);
        } else {
            out.xa(t, XaOp.ROLLBACK);
        }
        // Not waited for: an unprepared branch that fails to roll back dies with its session.
        t.state = new Ended(End.ROLLED_BACK);
        out.vote(t, asker, answering, Vote.NO);
    }

    private static void work(Tracked t, Purpose p, Asker asker, long timeout, Out out, XaOp... ops) {
        work(t, p, asker, timeout, out, t.state, ops);
    }

    private static void work(Tracked t, Purpose p, Asker asker, long timeout, Out out, BranchState before, XaOp... ops) {
        t.state = new Working(p, asker, timeout, before);
        out.xa(t, ops);
    }
}
