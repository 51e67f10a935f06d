package dev.xatm.core.commit;

import dev.xatm.core.AckResult;
import dev.xatm.core.Action;
import dev.xatm.core.Branch;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Vote;

/**
 * What the coordinator knows of one branch: its vote, the phase command still unanswered (if any)
 * and when that command is due again. Not thread-safe; owned by its {@link GlobalTxn}.
 *
 * <p>The phase names what the coordinator is waiting for, so the command to resend follows from it:
 * there is no second flag that could disagree.
 */
final class BranchProgress {

    enum Phase {
        /** Registered in an ACTIVE transaction; nothing sent yet. */
        REGISTERED(null),
        /** PREPARE sent, no vote yet. */
        PREPARING(Action.PREPARE),
        /** 3PC: CAN_COMMIT sent, no answer yet. */
        ASKED(Action.CAN_COMMIT),
        /** 3PC: answered YES to CAN_COMMIT (not prepared); waits for PRE_COMMIT, which needs a durable record first. */
        WILLING(null),
        /** 3PC: PRE_COMMIT (XA PREPARE) sent, no answer yet. */
        PRE_COMMITTING(Action.PRE_COMMIT),
        /** Voted YES (2PC PREPARE, or 3PC PRE_COMMIT: XA-prepared); waits for the decision (and, for COMMIT, for it to be durable). */
        PREPARED(null),
        /** Voted READ_ONLY: its agent finished it at prepare time; it takes no part in phase 2. */
        READ_ONLY(null),
        /** Single-branch commit (XA COMMIT ... ONE PHASE) sent, no answer yet. */
        COMMITTING_ONE_PHASE(Action.COMMIT_ONE_PHASE),
        COMMITTING(Action.COMMIT),
        ROLLING_BACK(Action.ROLLBACK),
        COMMITTED(null),
        ROLLED_BACK(null),
        /**
         * Its database reported a heuristic outcome for COMMIT, ROLLBACK or COMMIT_ONE_PHASE: it
         * decided on its own, and resending cannot change that. Done, as far as phase 2 goes.
         */
        HEURISTIC(null);

        /** The command the coordinator resends while the branch is in this phase; null when it waits for nothing. */
        final Action pending;

        Phase(Action pending) {
            this.pending = pending;
        }
    }

    private final String gtrid;
    private final Branch branch;
    /** Where phase commands go: the registering agent, or the last agent that inquired about the branch (rule 9). */
    private String agentId;
    private Phase phase;
    private Vote vote;
    private long dueMillis;
    private long intervalMillis;
    /** How often the pending command was sent (resends included), and when last; for the admin views. */
    private int attempts;
    private long lastSentMillis = -1;
    /** The heuristic outcome its database reported, if any. */
    private AckResult heuristic;
    /** 3PC: its answer to CAN_COMMIT ({@link #vote} holds its answer to PRE_COMMIT: YES = prepared). */
    private Vote canCommitVote;
    /** 3PC: its participant reported deciding on its own after a timeout (COMMIT or ROLLBACK); for the views. */
    private Action autonomous;
    /**
     * Its holder prepared it before asking for the commit (Event.CommitPrepared) and commits it itself
     * once told the decision: COMMIT is sent to it only when no acknowledgement comes in time.
     */
    private boolean committedByHolder;
    /** 3PC: its holder answered CAN_COMMIT on the request that started the transaction (Event.CanCommitHeld). */
    private boolean preparedByHolder;
    /**
     * Agents other than its holder that an inquiry was answered with this branch's outcome (they hold
     * it prepared too, found by XA RECOVER); the last few only. See {@link Speakers}.
     */
    private final java.util.LinkedHashSet<String> answeredInquirers = new java.util.LinkedHashSet<>();
    /** How many inquirers are remembered: enough for a few instances of one service, bounded against a flood. */
    static final int MAX_ANSWERED_INQUIRERS = 4;

    BranchProgress(String gtrid, Branch branch, Phase phase) {
        this.gtrid = gtrid;
        this.branch = branch;
        this.agentId = branch.agentId();
        this.phase = phase;
    }

    /** A branch named in a durable decision record: it voted YES, or the record would not name it. */
    static BranchProgress restoredYes(String gtrid, Branch branch) {
        BranchProgress b = new BranchProgress(gtrid, branch, Phase.PREPARED);
        b.vote = Vote.YES;
        return b;
    }

    /** 3PC: a branch named in a durable PRE_COMMIT record; it answered YES to CAN_COMMIT. PRE_COMMIT goes to it again. */
    static BranchProgress restoredWilling(String gtrid, Branch branch) {
        BranchProgress b = new BranchProgress(gtrid, branch, Phase.WILLING);
        b.canCommitVote = Vote.YES;
        return b;
    }

    Branch branch() {
        return branch;
    }

    Vote canCommitVote() {
        return canCommitVote;
    }

    Action autonomous() {
        return autonomous;
    }

    void autonomous(Action action) {
        this.autonomous = action;
    }

    String bqual() {
        return branch.bqual();
    }

    String agentId() {
        return agentId;
    }

    Phase phase() {
        return phase;
    }

    Vote vote() {
        return vote;
    }

    AckResult heuristic() {
        return heuristic;
    }

    int attempts() {
        return attempts;
    }

    long lastSentMillis() {
        return lastSentMillis;
    }

    /** The command waiting for an answer, or null. */
    Action pending() {
        return phase.pending;
    }

    /** The branch as phase 2 must find it after a restart: at the agent that holds it now. */
    Branch currentBranch() {
        return agentId.equals(branch.agentId()) ? branch : new Branch(branch.bqual(), branch.resourceId(), agentId);
    }

    /**
     * An agent announced that it holds this branch prepared: commands go there from now on. The
     * registering agent may have been replaced by another instance that found the branch by XA
     * RECOVER (rule 9).
     */
    void routeTo(String inquiringAgentId) {
        this.agentId = inquiringAgentId;
    }

    /** An inquiry from {@code inquirer}, not its holder, was answered with this branch's outcome. */
    void answeredInquirer(String inquirer) {
        if (inquirer.equals(agentId) || !answeredInquirers.add(inquirer)) {
            return;
        }
        if (answeredInquirers.size() > MAX_ANSWERED_INQUIRERS) {
            answeredInquirers.remove(answeredInquirers.iterator().next());
        }
    }

    boolean wasAnswered(String inquirer) {
        return answeredInquirers.contains(inquirer);
    }

    // ---- transitions: each names the phases it may start from ----

    void prepare(CoordinatorConfig config, long nowMillis) {
        move(Phase.PREPARING, "prepare", Phase.REGISTERED);
        schedule(config, nowMillis);
    }

    void askCanCommit(CoordinatorConfig config, long nowMillis) {
        move(Phase.ASKED, "ask can-commit", Phase.REGISTERED);
        schedule(config, nowMillis);
    }

    /** 3PC: the answer to CAN_COMMIT. A NO stays ASKED: the caller aborts in the same step (as for a 2PC NO). */
    void canCommitAnswered(Vote v) {
        requireFor("answer can-commit", v, Phase.ASKED);
        this.canCommitVote = v;
        switch (v) {
            case YES -> phase = Phase.WILLING;
            case READ_ONLY -> {
                phase = Phase.READ_ONLY;
                vote = Vote.READ_ONLY;
            }
            case NO -> { }
        }
    }

    /**
     * 3PC: the answer to CAN_COMMIT its holding agent brought with the request that started the
     * transaction (Event.CanCommitHeld): as if CAN_COMMIT had been sent and answered.
     */
    void canCommitByHolder(Vote v) {
        move(Phase.ASKED, "can-commit answered by its holder", Phase.REGISTERED);
        canCommitAnswered(v);
        preparedByHolder = v == Vote.YES;
    }

    /** 3PC: its holder answered CAN_COMMIT itself, and so also prepares it itself (Event.PreCommitHeld). */
    boolean preparedByHolder() {
        return preparedByHolder;
    }

    /**
     * 3PC: PRE_COMMIT is due, but its holder prepares the branch itself on hearing that the PRE_COMMIT
     * record is durable: the first PRE_COMMIT goes out only if no answer came within the longest resend
     * interval (the holder's answer, or its request, was lost).
     */
    void preCommitByHolder(CoordinatorConfig config, long nowMillis) {
        move(Phase.PRE_COMMITTING, "pre-commit by its holder", Phase.WILLING);
        this.dueMillis = Millis.saturatedAdd(nowMillis, config.retryMaxMillis());
        this.intervalMillis = config.retryInitialMillis();
        this.attempts = 0;
    }

    /** 3PC: its holder's answer to PRE_COMMIT (Event.PreCommitHeld); a YES is then committed by the holder too. */
    void preCommitAnsweredByHolder(Vote v) {
        preCommitAnswered(v);
        committedByHolder = v == Vote.YES;
    }

    void preCommit(CoordinatorConfig config, long nowMillis) {
        move(Phase.PRE_COMMITTING, "pre-commit", Phase.WILLING);
        schedule(config, nowMillis);
    }

    /** 3PC: the answer to PRE_COMMIT; YES means XA-prepared. A NO stays PRE_COMMITTING: the caller aborts. */
    void preCommitAnswered(Vote v) {
        requireFor("answer pre-commit", v, Phase.PRE_COMMITTING);
        if (v == Vote.READ_ONLY) {
            throw new IllegalArgumentException("branch " + gtrid + "/" + branch.bqual() + ": READ_ONLY is no answer to PRE_COMMIT");
        }
        this.vote = v;
        if (v == Vote.YES) {
            phase = Phase.PREPARED;
        }
    }

    /**
     * 3PC: the participant committed on its own (its PRE_COMMIT timer ran out), so it was prepared.
     * From any phase that may still lead to COMMIT.
     */
    void committedOnItsOwn() {
        move(Phase.COMMITTED, "committed on its own", Phase.PRE_COMMITTING, Phase.PREPARED, Phase.COMMITTING);
        vote = Vote.YES;
        autonomous = Action.COMMIT;
    }

    void commitOnePhase(CoordinatorConfig config, long nowMillis) {
        move(Phase.COMMITTING_ONE_PHASE, "commit one phase", Phase.REGISTERED);
        schedule(config, nowMillis);
    }

    void voted(Vote v) {
        Phase next = switch (v) {
            case YES -> Phase.PREPARED;
            case READ_ONLY -> Phase.READ_ONLY;
            // The caller aborts the transaction in this same step, which moves a NO voter on to
            // ROLLING_BACK: it has rolled itself back, yet still gets a ROLLBACK (rule 4), since the
            // agent treats XAER_NOTA on rollback as done and that closes any doubt for one message.
            case NO -> Phase.PREPARING;
        };
        requireFor("vote", v, Phase.PREPARING);
        this.vote = v;
        this.phase = next;
    }

    void commit(CoordinatorConfig config, long nowMillis) {
        move(Phase.COMMITTING, "commit", Phase.PREPARED);
        schedule(config, nowMillis);
    }

    /**
     * The vote its holding agent brought with the commit request: as if PREPARE had been sent and
     * answered. A NO stays as a PREPARING NO does: the caller aborts in the same step.
     */
    void votedByHolder(Vote v) {
        move(Phase.PREPARING, "vote by its holder", Phase.REGISTERED);
        voted(v);
        committedByHolder = v == Vote.YES;
    }

    boolean committedByHolder() {
        return committedByHolder;
    }

    /**
     * COMMIT is due, but the holder that prepared the branch commits it itself as soon as it hears the
     * decision: the first COMMIT goes out only if no acknowledgement came within the longest resend
     * interval, so an agent that died or lost the reply is still driven to the end.
     */
    void commitByHolder(CoordinatorConfig config, long nowMillis) {
        move(Phase.COMMITTING, "commit by its holder", Phase.PREPARED);
        this.dueMillis = Millis.saturatedAdd(nowMillis, config.retryMaxMillis());
        this.intervalMillis = config.retryInitialMillis();
        this.attempts = 0;
    }

    /** Rollback reaches every branch but a read-only one, whatever it did so far (rule 4). */
    void rollback(CoordinatorConfig config, long nowMillis) {
        move(Phase.ROLLING_BACK, "rollback", Phase.REGISTERED, Phase.PREPARING, Phase.PREPARED,
                Phase.ASKED, Phase.WILLING, Phase.PRE_COMMITTING);
        schedule(config, nowMillis);
    }

    void committed() {
        move(Phase.COMMITTED, "commit acknowledged", Phase.COMMITTING, Phase.COMMITTING_ONE_PHASE);
    }

    void rolledBack() {
        move(Phase.ROLLED_BACK, "rollback acknowledged", Phase.ROLLING_BACK, Phase.COMMITTING_ONE_PHASE);
    }

    /** The database answered the pending phase-2 command with a heuristic outcome. */
    void heuristic(AckResult result) {
        if (!result.isHeuristic()) {
            throw new IllegalArgumentException("branch " + gtrid + "/" + branch.bqual() + ": heuristic with " + result);
        }
        move(Phase.HEURISTIC, "heuristic " + result, Phase.COMMITTING, Phase.ROLLING_BACK, Phase.COMMITTING_ONE_PHASE);
        heuristic = result;
    }

    /** A heuristic outcome reported after the transaction finished (to a resent or inquired command). */
    void lateHeuristic(AckResult result) {
        if (!result.isHeuristic()) {
            throw new IllegalArgumentException("branch " + gtrid + "/" + branch.bqual() + ": heuristic with " + result);
        }
        phase = Phase.HEURISTIC;
        heuristic = result;
    }

    // ---- resend schedule (rule 6): initial interval, doubling up to the maximum, forever ----

    /** A new command was just issued: due at once, then after the initial interval. */
    private void schedule(CoordinatorConfig config, long nowMillis) {
        this.dueMillis = nowMillis;
        this.intervalMillis = config.retryInitialMillis();
        this.attempts = 0;
    }

    /** The agent came back (rule 7), or an operator insists: forget the backoff, send again at once. */
    void resetBackoff(CoordinatorConfig config, long nowMillis) {
        this.dueMillis = nowMillis;
        this.intervalMillis = config.retryInitialMillis();
    }

    boolean isDue(long nowMillis) {
        return phase.pending != null && nowMillis >= dueMillis;
    }

    /** Records one attempt: the next one waits the current interval, which then doubles up to the bound. */
    void attempted(CoordinatorConfig config, long nowMillis) {
        attempts = attempts == Integer.MAX_VALUE ? attempts : attempts + 1;
        lastSentMillis = nowMillis;
        dueMillis = Millis.saturatedAdd(nowMillis, intervalMillis);
        long max = config.retryMaxMillis();
        // Written so that doubling cannot overflow whatever bound is configured.
        intervalMillis = intervalMillis >= max - intervalMillis ? max : intervalMillis * 2;
    }

    long dueMillis() {
        return dueMillis;
    }

    private void move(Phase next, String event, Phase... allowed) {
        require(event, allowed);
        this.phase = next;
    }

    private void require(String event, Phase... allowed) {
        requireFor(event, null, allowed);
    }

    /** {@code event subject}, concatenated only for the error: this runs on every transaction's path. */
    private void requireFor(String event, Object subject, Phase... allowed) {
        for (Phase p : allowed) {
            if (phase == p) {
                return;
            }
        }
        throw new IllegalStateException("branch " + gtrid + "/" + branch.bqual() + ": cannot " + event + (subject == null ? "" : " " + subject)
                + " in phase " + phase);
    }

    @Override
    public String toString() {
        return branch.bqual() + "@" + agentId + ":" + phase + (vote == null ? "" : "(" + vote + ")")
                + (autonomous == null ? "" : "{" + autonomous + " on its own}")
                + (heuristic == null ? "" : "[" + heuristic + "]");
    }
}
