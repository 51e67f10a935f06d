package dev.xatm.core.commit;

import dev.xatm.core.Branch;
import dev.xatm.core.Outcome;
import dev.xatm.core.Protocol;
import dev.xatm.core.TxnStatus;
import dev.xatm.core.Vote;
import dev.xatm.core.view.HistoryEntry;

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
        /** 3PC phase 1: CAN_COMMIT sent, answers being collected until the answer deadline. */
        CAN_COMMIT(TxnStatus.ASKING_CAN_COMMIT),
        /** 3PC: every branch willing; the PRE_COMMIT record appended, not yet durable. No PRE_COMMIT may leave. */
        LOGGING_PRE_COMMIT(TxnStatus.PRE_COMMITTING),
        /**
         * 3PC phase 2: the PRE_COMMIT record is durable and PRE_COMMIT (XA PREPARE) went to every
         * willing branch; answers are collected until the answer deadline (none for a restored one).
         */
        PRE_COMMIT(TxnStatus.PRE_COMMITTING),
        /** Single branch: XA COMMIT ... ONE PHASE sent; its answer decides (rule 3). */
        COMMITTING_ONE_PHASE(TxnStatus.PREPARING),
        /**
         * All votes in, the decision record appended but not yet durable. The outcome is fixed (a
         * restart may still presume it aborted if the record is lost), yet no COMMIT may leave
         * until {@code DecisionDurable}.
         */
        LOGGING_DECISION(TxnStatus.COMMITTING),
        /** The decision is durable: COMMIT goes to every YES branch until each acknowledges. */
        COMMITTING(TxnStatus.COMMITTING),
        ROLLING_BACK(TxnStatus.ROLLING_BACK),
        FINISHED_COMMITTED(TxnStatus.FINISHED_COMMITTED),
        FINISHED_ROLLED_BACK(TxnStatus.FINISHED_ROLLED_BACK),
        FINISHED_HEURISTIC_HAZARD(TxnStatus.FINISHED_HEURISTIC_HAZARD),
        /** Phase 2 ended, but some branch's database reported a heuristic outcome. */
        FINISHED_HEURISTIC(TxnStatus.FINISHED_HEURISTIC);

        final TxnStatus status;

        State(TxnStatus status) {
            this.status = status;
        }
    }

    private final String gtrid;
    private final String name;
    private final Protocol protocol;
    private final long deadlineMillis;
    private final Map<String, BranchProgress> branches = new LinkedHashMap<>();
    private State state;
    private long voteDeadlineMillis = Long.MAX_VALUE;
    /** Set once the outcome is decided; TIMED_OUT and ROLLED_BACK are both rollbacks. */
    private Outcome outcome;

    // ---- for the admin views only: nothing below decides anything ----
    private final History history = new History();
    /** Order of arrival in this coordinator (begin or restore): "newest first" in lists. */
    private long seq = -1;
    private long begunMillis = -1;
    private long commitRequestedMillis = -1;
    private long decidedMillis = -1;
    private long finishedMillis = -1;
    private boolean restored;
    /** A Decision record was appended for it, so a Completed record must close it. */
    private boolean decisionLogged;
    /** 3PC: a PRE_COMMIT record was appended for it, so an abort must be logged (Aborted) and closed (Completed). */
    private boolean preCommitLogged;
    /** A Heuristics record keeps it open in the log, so forgetting it must close it (Completed). */
    private boolean heuristicsLogged;
    /** Records appended for it that must be durable and whose DecisionDurable has not come back yet. */
    private int recordsAwaitingDisk;
    /** 3PC: an Aborted record was appended; the rollback is announced once it (and all before it) is durable. */
    private boolean abortLogged;
    /** The operator who forgot (acknowledged) its heuristic outcome; null until then. */
    private String acknowledgedBy;

    private GlobalTxn(String gtrid, String name, Protocol protocol, long deadlineMillis, State state) {
        this.gtrid = gtrid;
        this.name = name;
        this.protocol = protocol;
        this.deadlineMillis = deadlineMillis;
        this.state = state;
    }

    static GlobalTxn begun(String gtrid, String name, long deadlineMillis) {
        return new GlobalTxn(gtrid, name, Protocol.TWO_PHASE, deadlineMillis, State.ACTIVE);
    }

    static GlobalTxn begun(String gtrid, String name, long deadlineMillis, long nowMillis) {
        return begun(gtrid, name, Protocol.TWO_PHASE, deadlineMillis, nowMillis);
    }

    static GlobalTxn begun(String gtrid, String name, Protocol protocol, long deadlineMillis, long nowMillis) {
        GlobalTxn t = new GlobalTxn(gtrid, name, protocol, deadlineMillis, State.ACTIVE);
        t.begunMillis = nowMillis;
        t.note(nowMillis, HistoryEntry.Kind.BEGUN, null, "name '" + name + "', " + protocol.label);
        return t;
    }

    /**
     * A transaction rebuilt from durable log records ({@link RestoredTxns} says how for each record
     * combination): it has no deadline any more, because phase 2 (or 3PC's re-asking) never gives up.
     */
    static GlobalTxn restored(String gtrid, String name, Protocol protocol, State state, Outcome outcome) {
        GlobalTxn t = new GlobalTxn(gtrid, name, protocol, Long.MAX_VALUE, state);
        t.restored = true;
        t.outcome = outcome;
        return t;
    }

    /** A restored branch; putIfAbsent, so a record carrying a bqual twice does not reset that branch's progress. */
    void addRestoredBranch(BranchProgress b) {
        branches.putIfAbsent(b.bqual(), b);
    }

    /** Rebuilt from a Decision record: a Completed record must close it. */
    void markDecisionLogged() {
        decisionLogged = true;
    }

    /** 3PC, rebuilt from a PRE_COMMIT record: an abort must be logged and closed. */
    void markPreCommitLogged() {
        preCommitLogged = true;
    }

    /** A restored commit that a Completed record already closed. */
    void markRestoredFinished() {
        require("restored finished", State.COMMITTING);
        state = State.FINISHED_COMMITTED;
    }

    /**
     * A gtrid this coordinator never knew, answered ROLLBACK to an inquiry (presumed abort) and
     * remembered as rolled back from then on.
     */
    static GlobalTxn presumedAborted(String gtrid, long nowMillis) {
        GlobalTxn t = new GlobalTxn(gtrid, "", Protocol.TWO_PHASE, Long.MAX_VALUE, State.FINISHED_ROLLED_BACK);
        t.outcome = Outcome.ROLLED_BACK;
        t.decidedMillis = nowMillis;
        t.finishedMillis = nowMillis;
        t.note(nowMillis, HistoryEntry.Kind.FINISHED, null, "unknown when an agent inquired about a prepared branch:"
                + " presumed aborted, ROLLBACK sent");
        return t;
    }

    /** Stamps a restored transaction with the time this coordinator took it over. */
    GlobalTxn restoredAt(long nowMillis, String detail) {
        decidedMillis = nowMillis;
        if (isFinished()) {
            finishedMillis = nowMillis;
        }
        note(nowMillis, HistoryEntry.Kind.RESTORED, null, detail);
        return this;
    }

    String gtrid() {
        return gtrid;
    }

    String name() {
        return name;
    }

    Protocol protocol() {
        return protocol;
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

    /** What a repeated request or a waiting caller hears once it is finished. */
    Outcome finishedOutcome() {
        return state == State.FINISHED_HEURISTIC ? Outcome.HEURISTIC_HAZARD : outcome;
    }

    /** The decided outcome is a rollback (ROLLED_BACK or TIMED_OUT), whatever happened after. */
    boolean decidedRollback() {
        return outcome == Outcome.ROLLED_BACK || outcome == Outcome.TIMED_OUT;
    }

    // ---- admin views ----

    void note(long atMillis, HistoryEntry.Kind kind, String bqual, String detail) {
        history.add(atMillis, kind, bqual, detail);
    }

    History history() {
        return history;
    }

    long seq() {
        return seq;
    }

    void seq(long seq) {
        this.seq = seq;
    }

    long begunMillis() {
        return begunMillis;
    }

    long decidedMillis() {
        return decidedMillis;
    }

    long finishedMillis() {
        return finishedMillis;
    }

    /** Since when phase 2 (or the one-phase commit) has been trying to apply the outcome; -1 if not started. */
    long phaseTwoSinceMillis() {
        return decidedMillis >= 0 ? decidedMillis : commitRequestedMillis;
    }

    boolean restored() {
        return restored;
    }

    boolean decisionLogged() {
        return decisionLogged;
    }

    boolean preCommitLogged() {
        return preCommitLogged;
    }

    boolean heuristicsLogged() {
        return heuristicsLogged;
    }

    void markHeuristicsLogged() {
        heuristicsLogged = true;
    }

    /** 3PC: the Aborted record was appended and is not durable yet: nobody may hear ROLLED_BACK. */
    boolean abortAwaitingDisk() {
        return abortLogged && recordsAwaitingDisk > 0;
    }

    /** A record that must be durable was appended for this transaction. */
    void awaitDisk() {
        recordsAwaitingDisk++;
    }

    /** One DecisionDurable came back; the log makes records durable in order, so a count suffices. */
    void recordDurable() {
        if (recordsAwaitingDisk > 0) {
            recordsAwaitingDisk--;
        }
    }

    void abortLogged() {
        abortLogged = true;
        awaitDisk();
    }

    String acknowledgedBy() {
        return acknowledgedBy;
    }

    void acknowledge(String operator) {
        require("forget", State.FINISHED_HEURISTIC, State.FINISHED_HEURISTIC_HAZARD);
        acknowledgedBy = operator;
    }

    boolean hasHeuristicBranch() {
        for (BranchProgress b : branches.values()) {
            if (b.heuristic() != null) {
                return true;
            }
        }
        return false;
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
        requireFor("register branch", b.bqual(), State.ACTIVE);
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

    void startPrepare(long voteDeadlineMillis, long nowMillis) {
        move(State.PREPARING, "commit (two-phase)", State.ACTIVE);
        this.voteDeadlineMillis = voteDeadlineMillis;
        commitRequestedMillis = nowMillis;
    }

    void startOnePhase(long nowMillis) {
        move(State.COMMITTING_ONE_PHASE, "commit (one-phase)", State.ACTIVE);
        commitRequestedMillis = nowMillis;
    }

    /** 3PC: CAN_COMMIT goes out; answers are due by {@code answerDeadlineMillis}. */
    void startCanCommit(long answerDeadlineMillis, long nowMillis) {
        move(State.CAN_COMMIT, "commit (three-phase)", State.ACTIVE);
        this.voteDeadlineMillis = answerDeadlineMillis;
        commitRequestedMillis = nowMillis;
    }

    /** 3PC: every branch is willing; the PRE_COMMIT record is on its way to disk. */
    void logPreCommit() {
        move(State.LOGGING_PRE_COMMIT, "log pre-commit", State.CAN_COMMIT);
        preCommitLogged = true;
        awaitDisk();
    }

    /** 3PC: the PRE_COMMIT record is durable; PRE_COMMIT answers are due by {@code answerDeadlineMillis}. */
    void preCommitDurable(long answerDeadlineMillis) {
        move(State.PRE_COMMIT, "pre-commit durable", State.LOGGING_PRE_COMMIT);
        this.voteDeadlineMillis = answerDeadlineMillis;
    }

    /** All votes are in and some branch voted YES: the decision record is on its way to disk. */
    void decideCommit(long nowMillis) {
        move(State.LOGGING_DECISION, "decide commit", State.PREPARING, State.PRE_COMMIT);
        outcome = Outcome.COMMITTED;
        decisionLogged = true;
        decidedMillis = nowMillis;
        awaitDisk();
    }

    void decisionDurable() {
        move(State.COMMITTING, "decision durable", State.LOGGING_DECISION);
    }

    /** ROLLED_BACK or TIMED_OUT. Only an undecided transaction can abort: a decision never changes. */
    void abort(Outcome why, long nowMillis) {
        if (why != Outcome.ROLLED_BACK && why != Outcome.TIMED_OUT) {
            throw new IllegalArgumentException("transaction " + gtrid + ": abort with " + why);
        }
        move(State.ROLLING_BACK, "abort (" + why + ")", State.ACTIVE, State.PREPARING,
                State.CAN_COMMIT, State.LOGGING_PRE_COMMIT, State.PRE_COMMIT);
        outcome = why;
        decidedMillis = nowMillis;
    }

    /**
     * A commit that needs no phase 2 (no branches, or only read-only ones), or whose phase 2 is
     * complete, or a one-phase commit that was acknowledged.
     */
    void finishCommitted(long nowMillis) {
        move(State.FINISHED_COMMITTED, "finish committed",
                State.ACTIVE, State.PREPARING, State.CAN_COMMIT, State.COMMITTING_ONE_PHASE, State.COMMITTING);
        outcome = Outcome.COMMITTED;
        finished(nowMillis);
    }

    /** Every rollback acknowledged, or the one-phase commit was rolled back instead. */
    void finishRolledBack(long nowMillis) {
        move(State.FINISHED_ROLLED_BACK, "finish rolled back", State.ROLLING_BACK, State.COMMITTING_ONE_PHASE);
        if (outcome == null) {
            outcome = Outcome.ROLLED_BACK;
        }
        finished(nowMillis);
    }

    /** The one-phase commit's agent went away before answering: nobody knows the outcome. */
    void finishHazard(long nowMillis) {
        move(State.FINISHED_HEURISTIC_HAZARD, "finish with heuristic hazard", State.COMMITTING_ONE_PHASE);
        outcome = Outcome.HEURISTIC_HAZARD;
        finished(nowMillis);
    }

    /**
     * Phase 2 (or the one-phase commit) is over and some database reported a heuristic outcome. The
     * decided outcome stays what it was (a one-phase commit's becomes HEURISTIC_HAZARD: it decided
     * nothing itself). Also reached by a finished transaction that hears of a heuristic late.
     */
    void finishHeuristic(long nowMillis) {
        move(State.FINISHED_HEURISTIC, "finish with a heuristic outcome", State.COMMITTING, State.ROLLING_BACK,
                State.COMMITTING_ONE_PHASE, State.FINISHED_COMMITTED, State.FINISHED_ROLLED_BACK, State.FINISHED_HEURISTIC);
        if (outcome == null) {
            outcome = Outcome.HEURISTIC_HAZARD;
        }
        acknowledgedBy = null; // a new heuristic needs a new acknowledgement
        finished(nowMillis);
    }

    private void finished(long nowMillis) {
        if (decidedMillis < 0) {
            decidedMillis = nowMillis;
        }
        finishedMillis = nowMillis;
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
        requireFor(event, null, allowed);
    }

    /** {@code event subject}, concatenated only for the error: this runs on every transaction's path. */
    private void requireFor(String event, Object subject, State... allowed) {
        for (State s : allowed) {
            if (state == s) {
                return;
            }
        }
        throw new IllegalStateException("transaction " + gtrid + ": cannot " + event + (subject == null ? "" : " " + subject)
                + " in state " + state);
    }

    @Override
    public String toString() {
        return "GlobalTxn{" + gtrid + " " + state + " " + branches.values() + "}";
    }
}
