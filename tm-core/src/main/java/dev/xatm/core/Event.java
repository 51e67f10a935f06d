package dev.xatm.core;

/**
 * Everything that can happen to the coordinator. The driver (tm-server) turns network messages,
 * log-write completions and its clock into events and feeds them, one at a time, to
 * {@code Coordinator.step}. Time only ever enters through {@link Tick} and {@link Begin#deadlineMillis}:
 * the core has no clock of its own.
 */
public sealed interface Event {

    /** The driver's monotonic clock reached {@code nowMillis}. Drives deadlines and resends. */
    record Tick(long nowMillis) implements Event {}

    /**
     * A client starts a global transaction; the driver computed the deadline on its own clock. A
     * null protocol means the coordinator's default ({@link CoordinatorConfig#defaultProtocol()}).
     */
    record Begin(String gtrid, String name, long deadlineMillis, Protocol protocol) implements Event {
        public Begin(String gtrid, String name, long deadlineMillis) {
            this(gtrid, name, deadlineMillis, null);
        }
    }

    /** A client adds a branch to an active transaction. */
    record RegisterBranch(String gtrid, Branch branch) implements Event {}

    /** A client asks to commit. */
    record CommitRequested(String gtrid) implements Event {}

    /**
     * the one round trip: the initiator's agent ({@code agentId}) has already ended and
     * prepared its own branches and asks for the commit with their votes. The coordinator may never
     * have heard of the gtrid (no Begin was sent): it then starts the transaction here, with
     * {@code name} and {@code deadlineMillis} (the driver's clock). Branches registered earlier by
     * other agents (downstream services) are still asked to PREPARE. Two-phase commit only.
     *
     * <p>After the COMMIT decision is durable the requester commits its own branches itself and
     * acknowledges them; the coordinator resends COMMIT to them only if no acknowledgement comes.
     */
    record CommitPrepared(String gtrid, String name, long deadlineMillis, String agentId, java.util.List<Voted> branches)
            implements Event {
        public CommitPrepared {
            branches = branches == null ? null : java.util.List.copyOf(branches);
        }
    }

    /**
     * The cheap three-phase commit of a transaction whose branches are all held by the requester's
     * agent ({@code agentId}): the agent has asked its own branches CAN_COMMIT (XA END, nothing
     * durable) and brings their answers ({@code branches}; YES, READ_ONLY or NO), instead of a Begin,
     * a RegisterBranch per branch and a CAN_COMMIT round on its stream. The coordinator never heard of
     * the gtrid: it starts the transaction here, with {@code name} and {@code deadlineMillis} (the
     * driver's clock) and counts the answers as CAN_COMMIT answers. Once the PRE_COMMIT record is
     * durable it answers {@link Reply.PreCommitted} instead of sending PRE_COMMIT: the agent prepares
     * its branches itself and brings those answers with {@link PreCommitHeld}. PRE_COMMIT goes on the
     * stream only if they do not come within the longest resend interval (the answer was lost).
     */
    record CanCommitHeld(String gtrid, String name, long deadlineMillis, String agentId, java.util.List<Voted> branches)
            implements Event {
        public CanCommitHeld {
            branches = branches == null ? null : java.util.List.copyOf(branches);
        }
    }

    /**
     * The second request of the cheap 3PC: the holding agent ({@code agentId}) answered PRE_COMMIT for
     * its own branches (XA PREPARE; YES = prepared, NO = it failed) after {@link Reply.PreCommitted}.
     * Counted as PRE_COMMIT answers; the reply is the decision, COMMITTED once it is durable. After
     * it the holder commits the branches itself and acknowledges them; COMMIT follows on the stream
     * only if no acknowledgement comes, as for {@link CommitPrepared}.
     */
    record PreCommitHeld(String gtrid, String agentId, java.util.List<Voted> branches) implements Event {
        public PreCommitHeld {
            branches = branches == null ? null : java.util.List.copyOf(branches);
        }
    }

    /** A branch its holding agent prepared (or finished read-only, or failed) before asking for the commit. */
    record Voted(Branch branch, Vote vote) {}

    /** A client asks to roll back. */
    record RollbackRequested(String gtrid) implements Event {}

    /**
     * An agent's answer to PREPARE, or in 3PC to CAN_COMMIT or PRE_COMMIT ({@code answering}; YES to
     * PRE_COMMIT means the branch is XA-prepared). Duplicates and late votes are ignored.
     *
     * @param agentId the agent whose stream carried the vote (its Hello), never a field the agent
     *                chose: only the branch's holder may vote for it
     */
    record VoteReceived(String gtrid, String bqual, Vote vote, Action answering, String agentId) implements Event {
        public VoteReceived(String gtrid, String bqual, Vote vote, String agentId) {
            this(gtrid, bqual, vote, Action.PREPARE, agentId);
        }
    }

    /**
     * An agent finished COMMIT, ROLLBACK or COMMIT_ONE_PHASE for a branch. Duplicates are ignored.
     * {@code autonomous}: a 3PC participant did it on its own when its timer ran out (COMMIT after
     * acknowledging PRE_COMMIT, ROLLBACK after a YES to CAN_COMMIT), and reports it now.
     *
     * @param agentId the agent whose stream carried the acknowledgement: only the branch's holder, or
     *                an agent the inquiry rules answered about it while its holder was away, may
     *                acknowledge it
     */
    record AckReceived(String gtrid, String bqual, Action action, AckResult result, boolean autonomous, String agentId)
            implements Event {
        public AckReceived(String gtrid, String bqual, Action action, AckResult result, String agentId) {
            this(gtrid, bqual, action, result, false, agentId);
        }
    }

    /**
     * The record {@code gtrid} waits for is on stable storage: its COMMIT decision, or in 3PC its
     * PRE_COMMIT record (the transaction's state says which).
     */
    record DecisionDurable(String gtrid) implements Event {}

    /** An agent (re)opened its stream: anything pending for its branches is sent again at once. */
    record AgentConnected(String agentId) implements Event {}

    /**
     * An agent's stream ended. Its unprepared branches died with its sessions, so an undecided
     * transaction that depends on them is rolled back.
     */
    record AgentDisconnected(String agentId) implements Event {}

    /**
     * An agent holds a prepared branch (found by XA RECOVER) and asks for its outcome. Answered by a
     * phase command now if the outcome is known (presumed abort for an unknown gtrid), else later.
     *
     * @param presumeAbort false for a gtrid this coordinator does not own (another server's, on a
     *                     shared store): if it is unknown here, nothing is answered, because another
     *                     server may have decided it
     */
    record Inquiry(String gtrid, String bqual, String resourceId, String agentId, boolean presumeAbort) implements Event {
        public Inquiry(String gtrid, String bqual, String resourceId, String agentId) {
            this(gtrid, bqual, resourceId, agentId, true);
        }
    }

    /**
     * The shared store's answer (rule R4, {@code dev.xatm.core.cluster.StoreRules#verdict}) to an
     * agent's inquiry about a prepared branch of a gtrid this server does not own and did not know when
     * the inquiry came: the driver read the owner's node row and then the decision row, and brings the
     * verdict here instead of acting on it, so that only the core sends phase commands. The core answers
     * COMMIT with a COMMIT to the asking agent (the owner, or its adopter, drives the transaction and
     * counts the acknowledgements; one reaching this server is ignored), ROLLBACK as the presumed abort
     * of an unknown gtrid (remembered, so that a later request here hears rolled back), and ASK_OWNER
     * with nothing: the agent asks the owner, or again later. Should the gtrid be known here by now, the
     * core answers the inquiry from what it knows, as for an {@link Inquiry} it does not own.
     */
    record StoreVerdict(String gtrid, String bqual, String resourceId, String agentId, dev.xatm.core.cluster.Verdict verdict)
            implements Event {
        public StoreVerdict {
            java.util.Objects.requireNonNull(verdict, "verdict");
        }
    }

    /**
     * This server took over a dead node on a shared store (docs/ha.md) and now owns its open log
     * records ({@code records}, in decision order). They are rebuilt exactly as a restart rebuilds its
     * own log ({@code Coordinator.restore}): a COMMIT decision resumes phase 2 with COMMIT to every
     * branch, a 3PC PRE_COMMIT without a decision is asked again, a heuristic rollback is held. A gtrid
     * this coordinator knows already is left as it is. {@code from} names the dead node for the history.
     */
    record Adopted(String from, java.util.List<LogRecord> records) implements Event {
        public Adopted {
            java.util.Objects.requireNonNull(from, "from");
            records = java.util.List.copyOf(records);
        }
    }

    // ---- an operator's forced resolution (admin API). Each is refused where it would contradict a
    // durable decision; each accepted or refused attempt is recorded in the transaction's history.

    /**
     * Drive phase 2 of a transaction whose COMMIT decision is durable, now (resend COMMIT to every
     * branch still pending). Refused for any transaction without a durable COMMIT decision: under
     * presumed abort an undecided transaction may be rolled back by anyone at any time, so a forced
     * commit could contradict a rollback already under way.
     */
    record ForceCommit(String gtrid, String operator) implements Event {}

    /** Roll back an undecided transaction (or resend the rollback of one that is rolling back). */
    record ForceRollback(String gtrid, String operator) implements Event {}

    /** Acknowledge a heuristic outcome (or hazard): the transaction is no longer listed as in doubt. */
    record Forget(String gtrid, String operator) implements Event {}
}
