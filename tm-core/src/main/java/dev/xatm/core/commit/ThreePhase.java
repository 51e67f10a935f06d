package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.Event;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.Vote;
import dev.xatm.core.commit.BranchProgress.Phase;
import dev.xatm.core.commit.GlobalTxn.State;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.ArrayList;
import java.util.List;

/**
 * The rules of three-phase commit for one transaction at a time, as {@link TwoPhase} has
 * those of 2PC. Only the first two phases are new: once every branch acknowledged PRE_COMMIT (it is
 * XA-prepared) the COMMIT decision, its durability and phase 2 are exactly 2PC's, so they are left
 * to {@link TwoPhase}.
 *
 * <pre>
 *   ACTIVE --commit--> CAN_COMMIT --all YES--> LOGGING_PRE_COMMIT --durable--> PRE_COMMIT --all YES--> LOGGING_DECISION -> COMMITTING
 *                          |  NO / no answer in time / agent gone                  |  NO / no answer in time
 *                          +------------------------------> ROLLING_BACK <---------+
 * </pre>
 *
 * <p>The participants have timers too (carried on the CAN_COMMIT and PRE_COMMIT commands): after a
 * YES to CAN_COMMIT and no PRE_COMMIT they roll back, after acknowledging PRE_COMMIT and no decision
 * they commit, and report either when they next reach the coordinator. What keeps that atomic while
 * every delay (a message, a coordinator restart) is shorter than the participants' timers: nothing is
 * prepared before the PRE_COMMIT record is durable, so a coordinator crash before it leaves nothing to
 * decide; {@link dev.xatm.core.ThreePhaseTimeouts} makes a participant wait longer than the
 * coordinator, so an abort for a missing PRE_COMMIT answer reaches every participant before it could
 * commit on its own; and a coordinator restarted with a PRE_COMMIT record but no decision never
 * presumes abort: it asks every branch again and commits if any participant already did. A partition,
 * or a coordinator that stays down longer than the timers while some branches are prepared and others
 * not, breaks this (ThreePhasePartitionHazardTest, and ThreePhaseCommitIT with real processes): a
 * prepared participant commits on its own while an unprepared one rolls back. The coordinator then
 * records the participant's report as a heuristic outcome, for an operator.
 */
final class ThreePhase {
    private final CoordinatorConfig config;
    private final TwoPhase twoPhase;

    ThreePhase(CoordinatorConfig config, TwoPhase twoPhase) {
        this.config = config;
        this.twoPhase = twoPhase;
    }

    /** Commit asked of an ACTIVE 3PC transaction with two or more branches (one branch commits in one phase). */
    void commit(GlobalTxn t, long nowMillis, Effects.Builder out) {
        t.note(nowMillis, Kind.COMMIT_REQUESTED, null, t.branchCount() + " branch(es), three-phase");
        t.startCanCommit(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.threePhase().canCommitMillis())), nowMillis);
        t.note(nowMillis, Kind.CAN_COMMIT_SENT, null, "to " + t.branchCount() + " branches");
        for (BranchProgress b : t.branches()) {
            b.askCanCommit(config, nowMillis);
            twoPhase.send(t, b, nowMillis, out);
        }
    }

    /**
     * The CAN_COMMIT answers the holding agent brought when it started the transaction
     * (Event.CanCommitHeld), for branches just added: nothing is sent for phase 1, the rest is as if
     * every answer had come over the stream. A NO aborts with nothing written; all willing writes the
     * PRE_COMMIT record, and PRE_COMMIT goes out once it is durable, as always.
     */
    void canCommitHeld(GlobalTxn t, List<Event.Voted> answers, long nowMillis, Effects.Builder out) {
        t.note(nowMillis, Kind.COMMIT_REQUESTED, null, t.branchCount() + " branch(es), three-phase; CAN_COMMIT answered by"
                + " the requesting agent");
        t.startCanCommit(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.threePhase().canCommitMillis())), nowMillis);
        BranchProgress decisive = null; // the first NO if there is one: it aborts; else any branch, to tally them all
        for (Event.Voted v : answers) {
            BranchProgress b = t.branch(v.branch().bqual());
            b.canCommitByHolder(v.vote());
            t.note(nowMillis, Kind.VOTE, b.bqual(), "CAN_COMMIT: " + v.vote() + " (answered by its holder before the request)");
            if (decisive == null || (v.vote() == Vote.NO && decisive.canCommitVote() != Vote.NO)) {
                decisive = b;
            }
        }
        canCommitAnswered(t, decisive, nowMillis, out);
    }

    /** An answer to CAN_COMMIT or PRE_COMMIT. The Coordinator has checked that gtrid and bqual are known. */
    void vote(GlobalTxn t, BranchProgress b, Vote vote, Action answering, long nowMillis, Effects.Builder out) {
        if (answering == Action.CAN_COMMIT && t.state() == State.CAN_COMMIT && b.phase() == Phase.ASKED) {
            b.canCommitAnswered(vote);
            t.note(nowMillis, Kind.VOTE, b.bqual(), "CAN_COMMIT: " + vote);
            canCommitAnswered(t, b, nowMillis, out);
        } else if (answering == Action.PRE_COMMIT && t.state() == State.PRE_COMMIT && b.phase() == Phase.PRE_COMMITTING) {
            if (vote == Vote.READ_ONLY) {
                vote = Vote.NO; // not an answer PRE_COMMIT can have: the branch is not prepared
            }
            b.preCommitAnswered(vote);
            t.note(nowMillis, Kind.VOTE, b.bqual(), "PRE_COMMIT: " + (vote == Vote.YES ? "YES (prepared)" : vote));
            preCommitAnswered(t, nowMillis, out);
        } else if (answering == Action.PRE_COMMIT) {
            // Late or duplicate: a YES means the branch sits prepared; 2PC's rule answers it.
            twoPhase.vote(t, b, vote, nowMillis, out);
        }
        // A late CAN_COMMIT answer holds nothing prepared: its participant rolls back by its timer if need be.
    }

    private void canCommitAnswered(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        if (b.canCommitVote() == Vote.NO) {
            twoPhase.abort(t, Outcome.ROLLED_BACK, "branch " + b.bqual() + " answered NO to CAN_COMMIT", nowMillis, out);
            return;
        }
        List<Branch> willing = new ArrayList<>();
        for (BranchProgress other : t.branches()) {
            if (other.phase() == Phase.ASKED) {
                return; // still waiting
            }
            if (other.phase() == Phase.WILLING) {
                willing.add(other.currentBranch());
            }
        }
        if (willing.isEmpty()) {
            // All read-only: each finished its branch already; nothing to prepare, log or recover.
            t.finishCommitted(nowMillis);
            TwoPhase.decidedAndFinished(t, nowMillis, out);
            return;
        }
        // No PRE_COMMIT may leave before this record is durable: from the first PRE_COMMIT on, a
        // participant may commit on its own, and a restarted coordinator must know to ask, not presume.
        t.logPreCommit();
        t.note(nowMillis, Kind.PRE_COMMIT_LOGGED, null, "every branch willing; PRE_COMMIT record appended, waiting for it to be durable");
        out.append(new LogRecord.PreCommit(t.gtrid(), t.name(), willing));
    }

    /** The PRE_COMMIT record is durable: PRE_COMMIT (XA PREPARE) goes to every willing branch. */
    void preCommitDurable(GlobalTxn t, long nowMillis, Effects.Builder out) {
        if (t.state() != State.LOGGING_PRE_COMMIT) {
            return; // aborted meanwhile, or a duplicate
        }
        t.preCommitDurable(Math.min(t.deadlineMillis(), Millis.saturatedAdd(nowMillis, config.threePhase().preCommitMillis())));
        int sent = 0;
        int byHolder = 0;
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.WILLING && b.preparedByHolder()) {
                b.preCommitByHolder(config, nowMillis); // its holder prepares it on hearing the reply below
                byHolder++;
            } else if (b.phase() == Phase.WILLING) {
                b.preCommit(config, nowMillis);
                twoPhase.send(t, b, nowMillis, out);
                sent++;
            }
        }
        t.note(nowMillis, Kind.PRE_COMMIT_SENT, null, byHolder == 0 ? "PRE_COMMIT record durable; PRE_COMMIT sent to " + sent
                + " branch(es)" : "PRE_COMMIT record durable; " + byHolder + " branch(es) prepared by the agent that holds them"
                + " (PRE_COMMIT follows only if their answers do not come)");
        if (byHolder > 0) {
            out.reply(new Reply.PreCommitted(t.gtrid(), config.threePhase().participantPreCommitMillis()));
        }
    }

    /**
     * The PRE_COMMIT answers the holding agent brought (Event.PreCommitHeld). The Coordinator has
     * checked that every branch is known and held by the requester. In PRE_COMMIT they count as
     * answers (a YES is then committed by the holder itself); later they are late answers, and a late
     * YES to an aborted transaction gets its ROLLBACK as always.
     */
    void preCommitHeld(GlobalTxn t, List<Event.Voted> answers, long nowMillis, Effects.Builder out) {
        boolean counted = false;
        for (Event.Voted v : answers) {
            BranchProgress b = t.branch(v.branch().bqual());
            Vote vote = v.vote() == Vote.YES ? Vote.YES : Vote.NO; // READ_ONLY is no answer to PRE_COMMIT
            if (t.state() == State.PRE_COMMIT && b.phase() == Phase.PRE_COMMITTING) {
                b.preCommitAnsweredByHolder(vote);
                t.note(nowMillis, Kind.VOTE, b.bqual(), "PRE_COMMIT: " + (vote == Vote.YES ? "YES (prepared by its holder)" : vote));
                counted = true;
            } else {
                vote(t, b, vote, Action.PRE_COMMIT, nowMillis, out);
            }
        }
        if (counted) {
            preCommitAnswered(t, nowMillis, out);
        }
    }

    /**
     * Decides once the PRE_COMMIT answers allow it. A live (not restored) transaction aborts at the
     * first NO, as 2PC does. A restored one waits for every answer first: a participant it has not
     * heard from yet may have committed on its own, and its report must be able to turn the outcome.
     */
    private void preCommitAnswered(GlobalTxn t, long nowMillis, Effects.Builder out) {
        BranchProgress no = null;
        boolean waiting = false;
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.PRE_COMMITTING && b.vote() == Vote.NO) {
                no = no == null ? b : no;
            } else if (b.phase() == Phase.PRE_COMMITTING) {
                waiting = true;
            }
        }
        if (no != null && (!t.restored() || !waiting)) {
            abort(t, "branch " + no.bqual() + " answered NO to PRE_COMMIT (its XA PREPARE failed, or it holds no such branch)",
                    nowMillis, out);
        } else if (!waiting) {
            twoPhase.decideCommit(t, nowMillis, out);
        }
    }

    /**
     * A participant reports that it decided its branch on its own, when its timer ran out:
     * {@code COMMIT} after acknowledging PRE_COMMIT, {@code ROLLBACK} after a YES to CAN_COMMIT.
     */
    void participantDecided(GlobalTxn t, BranchProgress b, Action action, long nowMillis, Effects.Builder out) {
        if (action == Action.COMMIT) {
            participantCommitted(t, b, nowMillis, out);
        } else if (action == Action.ROLLBACK) {
            participantRolledBack(t, b, nowMillis, out);
        }
    }

    private void participantCommitted(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        switch (t.state()) {
            case PRE_COMMIT, LOGGING_DECISION -> {
                if (b.phase() != Phase.PRE_COMMITTING && b.phase() != Phase.PREPARED) {
                    return; // a duplicate report
                }
                // It was prepared, and it committed: the only outcome left that agrees with it is COMMIT.
                b.committedOnItsOwn();
                t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "committed on its own: no decision reached it within its"
                        + " PRE_COMMIT timeout");
                if (t.state() == State.PRE_COMMIT) {
                    preCommitAnswered(t, nowMillis, out);
                }
            }
            case COMMITTING -> {
                if (b.phase() == Phase.COMMITTING) {
                    b.autonomous(Action.COMMIT);
                    t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "committed on its own before the COMMIT reached it;"
                            + " agrees with the decision");
                    twoPhase.ack(t, b, Action.COMMIT, AckResult.DONE, nowMillis, out);
                }
            }
            case ROLLING_BACK -> {
                if (b.phase() == Phase.ROLLING_BACK) {
                    b.autonomous(Action.COMMIT);
                    t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "committed on its own while the decision is ROLLBACK:"
                            + " the ROLLBACK did not reach it within its PRE_COMMIT timeout (3PC's partition hazard)");
                    twoPhase.ack(t, b, Action.ROLLBACK, AckResult.HEURISTIC_COMMIT, nowMillis, out);
                }
            }
            default -> { }
        }
    }

    private void participantRolledBack(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        switch (t.state()) {
            case CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                if (b.phase() == Phase.ASKED || b.phase() == Phase.WILLING || b.phase() == Phase.PRE_COMMITTING) {
                    b.autonomous(Action.ROLLBACK);
                    t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "rolled back on its own: no PRE_COMMIT reached it within"
                            + " its CAN_COMMIT timeout");
                    abort(t, "branch " + b.bqual() + " rolled back on its own", nowMillis, out);
                    if (b.phase() == Phase.ROLLING_BACK) {
                        twoPhase.ack(t, b, Action.ROLLBACK, AckResult.DONE, nowMillis, out);
                    }
                }
            }
            case ROLLING_BACK -> {
                if (b.phase() == Phase.ROLLING_BACK) {
                    b.autonomous(Action.ROLLBACK);
                    t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "rolled back on its own; agrees with the decision");
                    twoPhase.ack(t, b, Action.ROLLBACK, AckResult.DONE, nowMillis, out);
                }
            }
            case COMMITTING -> {
                // Cannot happen by the rules (a branch that rolled back answers NO to PRE_COMMIT), so if it
                // does, it is a heuristic outcome and an operator's case.
                if (b.phase() == Phase.COMMITTING) {
                    b.autonomous(Action.ROLLBACK);
                    t.note(nowMillis, Kind.PARTICIPANT_DECIDED, b.bqual(), "rolled back on its own while the decision is COMMIT");
                    twoPhase.ack(t, b, Action.COMMIT, AckResult.HEURISTIC_ROLLBACK, nowMillis, out);
                }
            }
            default -> { }
        }
    }

    /**
     * An agent holds the branch prepared (found by XA RECOVER after its own restart): for a branch
     * that was sent PRE_COMMIT, that is the YES it may never have delivered.
     */
    boolean inquiryAnswers(GlobalTxn t, BranchProgress b, long nowMillis, Effects.Builder out) {
        if (t.state() != State.PRE_COMMIT || b == null || b.phase() != Phase.PRE_COMMITTING) {
            return false;
        }
        b.preCommitAnswered(Vote.YES);
        t.note(nowMillis, Kind.VOTE, b.bqual(), "PRE_COMMIT: YES (its agent holds it prepared)");
        preCommitAnswered(t, nowMillis, out);
        return true;
    }

    /**
     * Aborts, keeping what participants did on their own: a branch that committed cannot be rolled
     * back, so it is recorded as a heuristic commit (the transaction then needs an operator).
     */
    private void abort(GlobalTxn t, String reason, long nowMillis, Effects.Builder out) {
        for (BranchProgress b : t.branches()) {
            if (b.phase() == Phase.COMMITTED && b.autonomous() == Action.COMMIT) {
                b.lateHeuristic(AckResult.HEURISTIC_COMMIT);
                t.note(nowMillis, Kind.HEURISTIC, b.bqual(), "committed on its own, yet the transaction rolls back: " + reason);
            }
        }
        twoPhase.abort(t, Outcome.ROLLED_BACK, reason, nowMillis, out);
        twoPhase.logHeuristics(t, out);
    }
}
