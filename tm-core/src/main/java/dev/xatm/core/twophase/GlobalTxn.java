package dev.xatm.core.twophase;

import dev.xatm.core.Branch;
import dev.xatm.core.Outcome;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One global transaction: a single enum state, its branches in registration order, and transition
 * methods that refuse an illegal move with an {@link IllegalStateException} naming the gtrid, the
 * state and the event. Not thread-safe; owned by the {@link Coordinator}.
 *
 * <p>Branches are kept in a {@link LinkedHashMap} so that every walk over them, and thus the order
 * of the messages the coordinator emits, is the same for the same inputs.
 */
final class GlobalTxn {

    enum State {
        ACTIVE(TxnStatus.ACTIVE),
        /** 2PC phase 1: PREPARE sent, votes being collected until the vote deadline. */
        PREPARING(TxnStatus.PREPARING),
        /** Single branch: XA COMMIT ... ONE PHASE sent; its answer decides (rule 3). */
        COMMITTING_ONE_PHASE(TxnStatus.PREPARING),
        /**
         * All votes in, the decision record appended but not yet durable. The outcome is fixed (a
         * restart may still presume it aborted if the record is lost), yet no COMMIT may leave
         * until {@code DecisionDurable} (SPEC §2, rule 4).
         */
        LOGGING_DECISION(TxnStatus.COMMITTING),
        /** The decision is durable: COMMIT goes to every YES branch until each acknowledges. */
        COMMITTING(TxnStatus.COMMITTING),
        ROLLING_BACK(TxnStatus.ROLLING_BACK),
        FINISHED_COMMITTED(TxnStatus.FINISHED_COMMITTED),
        FINISHED_ROLLED_BACK(TxnStatus.FINISHED_ROLLED_BACK),
        FINISHED_HEURISTIC_HAZARD(TxnStatus.FINISHED_HEURISTIC_HAZARD);

        final TxnStatus status;

        State(TxnStatus status) {
            this.status = status;
        }
    }

    private final String gtrid;
    private final String name;
    private final long deadlineMillis;
    private final Map<String, BranchProgress> branches = new LinkedHashMap<>();
    private State state;
    private long voteDeadlineMillis = Long.MAX_VALUE;
    /** Set once the outcome is decided; TIMED_OUT and ROLLED_BACK are both rollbacks. */
    private Outcome outcome;

    private GlobalTxn(String gtrid, String name, long deadlineMillis, State state) {
        this.gtrid = gtrid;
        this.name = name;
        this.deadlineMillis = deadlineMillis;
        this.state = state;
    }

    static GlobalTxn begun(String gtrid, String name, long deadlineMillis) {
        return new GlobalTxn(gtrid, name, deadlineMillis, State.ACTIVE);
    }

    /**
     * A transaction rebuilt from a durable decision record (rule 12): every branch voted YES and
     * phase 2 resumes. It has no deadline any more: phase 2 never gives up (XA-FACTS D.30).
     */
    static GlobalTxn restoredCommitting(String gtrid, String name, List<Branch> yesBranches) {
        GlobalTxn t = new GlobalTxn(gtrid, name, Long.MAX_VALUE, State.COMMITTING);
        t.outcome = Outcome.COMMITTED;
        for (Branch b : yesBranches) {
            // putIfAbsent: a record carrying a bqual twice must not reset that branch's progress.
            t.branches.putIfAbsent(b.bqual(), BranchProgress.restoredYes(gtrid, b));
        }
        return t;
    }

    /** A finished commit known only from a Completed record: no branches are left to answer for. */
    static GlobalTxn restoredFinished(String gtrid, String name, List<Branch> yesBranches) {
        GlobalTxn t = restoredCommitting(gtrid, name, yesBranches);
        t.state = State.FINISHED_COMMITTED;
        return t;
    }

    String gtrid() {
        return gtrid;
    }

    String name() {
        return name;
    }

    long deadlineMillis() {
        return deadlineMillis;
    }

    long voteDeadlineMillis() {
        return voteDeadlineMillis;
    }

    State state() {
        return state;
    }

    Outcome outcome() {
        return outcome;
    }

    boolean isFinished() {
        return state.status.isFinished();
    }

    Collection<BranchProgress> branches() {
        return branches.values();
    }

    BranchProgress branch(String bqual) {
        return branches.get(bqual);
    }

    int branchCount() {
        return branches.size();
    }

    void addBranch(Branch b) {
        require("register branch " + b.bqual(), State.ACTIVE);
        branches.put(b.bqual(), new BranchProgress(gtrid, b, BranchProgress.Phase.REGISTERED));
    }

    /** The votes received so far, in registration order. */
    List<Vote> votes() {
        List<Vote> votes = new ArrayList<>(branches.size());
        for (BranchProgress b : branches.values()) {
            if (b.vote() != null) {
                votes.add(b.vote());
            }
        }
        return votes;
    }

    /** The branches that voted YES, where phase 2 must find them: the content of the decision record. */
    List<Branch> yesBranches() {
        List<Branch> yes = new ArrayList<>();
        for (BranchProgress b : branches.values()) {
            if (b.vote() == Vote.YES) {
                yes.add(b.currentBranch());
            }
        }
        return yes;
    }

    // ---- transitions ----

    void startPrepare(long voteDeadlineMillis) {
        move(State.PREPARING, "commit (two-phase)", State.ACTIVE);
        this.voteDeadlineMillis = voteDeadlineMillis;
    }

    void startOnePhase() {
        move(State.COMMITTING_ONE_PHASE, "commit (one-phase)", State.ACTIVE);
    }

    /** All votes are in and some branch voted YES: the decision record is on its way to disk. */
    void decideCommit() {
        move(State.LOGGING_DECISION, "decide commit", State.PREPARING);
        outcome = Outcome.COMMITTED;
    }

    void decisionDurable() {
        move(State.COMMITTING, "decision durable", State.LOGGING_DECISION);
    }

    /** ROLLED_BACK or TIMED_OUT. Only an undecided transaction can abort: a decision never changes. */
    void abort(Outcome why) {
        if (why != Outcome.ROLLED_BACK && why != Outcome.TIMED_OUT) {
            throw new IllegalArgumentException("transaction " + gtrid + ": abort with " + why);
        }
        move(State.ROLLING_BACK, "abort (" + why + ")", State.ACTIVE, State.PREPARING);
        outcome = why;
    }

    /**
     * A commit that needs no phase 2 (no branches, or only read-only ones), or whose phase 2 is
     * complete, or a one-phase commit that was acknowledged.
     */
    void finishCommitted() {
        move(State.FINISHED_COMMITTED, "finish committed",
                State.ACTIVE, State.PREPARING, State.COMMITTING_ONE_PHASE, State.COMMITTING);
        outcome = Outcome.COMMITTED;
    }

    /** Every rollback acknowledged, or the one-phase commit was rolled back instead. */
    void finishRolledBack() {
        move(State.FINISHED_ROLLED_BACK, "finish rolled back", State.ROLLING_BACK, State.COMMITTING_ONE_PHASE);
        if (outcome == null) {
            outcome = Outcome.ROLLED_BACK;
        }
    }

    /** The one-phase commit's agent went away before answering: nobody knows the outcome (XA-FACTS E.39). */
    void finishHazard() {
        move(State.FINISHED_HEURISTIC_HAZARD, "finish with heuristic hazard", State.COMMITTING_ONE_PHASE);
        outcome = Outcome.HEURISTIC_HAZARD;
    }

    private void move(State next, String event, State... allowed) {
        for (State s : allowed) {
            if (state == s) {
                state = next;
                return;
            }
        }
        throw new IllegalStateException("transaction " + gtrid + ": cannot " + event + " in state " + state);
    }

    private void require(String event, State... allowed) {
        for (State s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new IllegalStateException("transaction " + gtrid + ": cannot " + event + " in state " + state);
    }

    @Override
    public String toString() {
        return "GlobalTxn{" + gtrid + " " + state + " " + branches.values() + "}";
    }
}
