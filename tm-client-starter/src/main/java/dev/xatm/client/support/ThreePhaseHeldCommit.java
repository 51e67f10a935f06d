package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.agent.Agent;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.HeldCanCommit;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.coordinator.PreparedBranch;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.Enlistment;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Three-phase commit for a transaction whose gtrid never left this process (every branch is this
 * instance's own), in two requests instead of Begin, a RegisterBranch per branch, Commit and six
 * messages per branch on the agent's stream:
 *
 * <ol>
 *   <li>The calling thread asks its branches CAN_COMMIT itself (XA END, not doomed; nothing durable)
 *       and arms each one's participant CAN_COMMIT timer with the server's value from its Welcome: no
 *       PRE_COMMIT in time and the branch rolls back on its own. It sends the answers; the server starts
 *       the transaction, makes its PRE_COMMIT record durable and answers "pre-commit".</li>
 *   <li>Only then it XA PREPAREs the branches (no branch is prepared before that record is durable),
 *       arming each one's participant PRE_COMMIT timer with the value the answer carried: no decision in
 *       time and the branch commits on its own. It sends those answers; the server makes the COMMIT
 *       decision (or, for a NO, the Aborted record) durable and answers.</li>
 *   <li>On COMMITTED it commits the branches on the connections that prepared them and acknowledges
 *       them in the agent's batches, as the two-phase one-round-trip path does.</li>
 * </ol>
 *
 * <p>A lost answer hands the branches to the ordinary 3PC machinery: after the first, they wait
 * XA-ended under their CAN_COMMIT timers for the PRE_COMMIT (or ROLLBACK) the server sends on the stream
 * when the second request does not come; after the second, the agent asks about its prepared branches
 * and their PRE_COMMIT timers run. A server that takes no such request (it predates it, or refuses it
 * before deciding anything) gets the coordinator-driven path: Begin, RegisterBranch, Commit.
 */
final class ThreePhaseHeldCommit {
    private final CoordinatorAccess coordinator;
    private final Enlistment enlistment;
    private final Agent agent;

    ThreePhaseHeldCommit(CoordinatorAccess coordinator, Enlistment enlistment, Agent agent) {
        this.coordinator = coordinator;
        this.enlistment = enlistment;
        this.agent = agent;
    }

    /** Whether this path can carry a new transaction: the owner of its gtrid told its participant CAN_COMMIT timeout. */
    boolean available(String gtrid) {
        return agent.participantCanCommitMillis(gtrid) > 0;
    }

    /** Commits two or more own branches as described above. */
    OutcomeReport commit(String gtrid, List<Branch> own, String name, long deadlineNanos) {
        long canCommitTimer = agent.participantCanCommitMillis(gtrid);
        if (canCommitTimer <= 0) {
            return strict(gtrid, name, deadlineNanos, own); // its stream dropped since the transaction began
        }
        for (Branch b : own) {
            b.committingInCaller(true);
        }
        try {
            List<PreparedBranch> answers = new ArrayList<>(own.size());
            List<Branch> willing = new ArrayList<>(own.size());
            for (Branch b : own) {
                BranchAnswer a = agent.runForCaller(b, BranchCommand.CAN_COMMIT, canCommitTimer);
                if (a == BranchAnswer.VOTE_YES) {
                    willing.add(b);
                    answers.add(new PreparedBranch(b.xid().bqual(), b.resource().resourceId(), PreparedBranch.Vote.YES));
                } else if (a == BranchAnswer.VOTE_READ_ONLY) {
                    answers.add(new PreparedBranch(b.xid().bqual(), b.resource().resourceId(), PreparedBranch.Vote.READ_ONLY));
                } else {
                    finish(own, BranchCommand.ROLLBACK, false); // the coordinator never heard of it: nobody else would
                    return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "the branch on " + b.resource().beanName()
                            + " answered NO to CAN_COMMIT (see the log); every branch was rolled back");
                }
            }
            if (willing.isEmpty()) {
                return new OutcomeReport(GlobalOutcome.COMMITTED, "every branch was read-only");
            }
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (leftMillis <= 0) {
                finish(willing, BranchCommand.ROLLBACK, false);
                return new OutcomeReport(GlobalOutcome.TIMED_OUT, "the deadline passed before the commit request");
            }
            // A failed call leaves them XA-ended under their CAN_COMMIT timers, for the server's PRE_COMMIT or ROLLBACK.
            HeldCanCommit first = coordinator.canCommitHeld(gtrid, name, leftMillis, agent.agentId(), answers);
            switch (first.kind()) {
                case REFUSED -> {
                    return strict(gtrid, name, deadlineNanos, own);
                }
                case DECIDED -> {
                    boolean commit = first.outcome().outcome() == GlobalOutcome.COMMITTED;
                    finish(willing, commit ? BranchCommand.COMMIT : BranchCommand.ROLLBACK, true);
                    return first.outcome();
                }
                default -> { }
            }
            List<PreparedBranch> votes = new ArrayList<>(willing.size());
            List<Branch> prepared = new ArrayList<>(willing.size());
            for (Branch b : willing) {
                BranchAnswer a = agent.runForCaller(b, BranchCommand.PRE_COMMIT, first.participantPreCommitMillis());
                boolean yes = a == BranchAnswer.VOTE_YES;
                if (yes) {
                    prepared.add(b);
                }
                votes.add(new PreparedBranch(b.xid().bqual(), b.resource().resourceId(), yes ? PreparedBranch.Vote.YES : PreparedBranch.Vote.NO));
            }
            OutcomeReport r;
            try {
                r = coordinator.preCommitHeld(gtrid, agent.agentId(), votes);
            } catch (RuntimeException unknown) {
                handBack(prepared);
                throw unknown;
            }
            switch (r.outcome()) {
                case COMMITTED -> finish(prepared, BranchCommand.COMMIT, true);
                case ROLLED_BACK, TIMED_OUT -> finish(willing, BranchCommand.ROLLBACK, true);
                default -> handBack(prepared);
            }
            return r;
        } finally {
            for (Branch b : own) {
                b.committingInCaller(false);
            }
        }
    }

    /**
     * The server took no CAN_COMMIT answers and decided nothing: begin the transaction there and register
     * the branches, then commit the coordinator-driven way. Its CAN_COMMIT finds them XA-ended already.
     */
    private OutcomeReport strict(String gtrid, String name, long deadlineNanos, List<Branch> own) {
        for (Branch b : own) {
            b.committingInCaller(false);
        }
        long leftMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
        try {
            coordinator.begin(gtrid, name, leftMillis, CommitProtocol.THREE_PHASE);
            enlistment.register(own);
        } catch (RuntimeException e) {
            // Not begun, or begun with branches missing: roll the branches back here, and the transaction there (if any).
            finish(own, BranchCommand.ROLLBACK, false);
            throw e;
        }
        return coordinator.commit(gtrid, false);
    }

    /** Phase 2 on the connections that ran the earlier steps; acknowledged (in the agent's batches) when the server knows the branch. */
    private void finish(List<Branch> branches, BranchCommand command, boolean known) {
        for (Branch b : branches) {
            BranchAnswer a = agent.runForCaller(b, command);
            if (known && a.endsPhaseTwo()) {
                agent.acknowledge(b, command, a);
            }
        }
    }

    /** The outcome is not ours to know: the agent asks the coordinator about the prepared branches. */
    private void handBack(List<Branch> prepared) {
        for (Branch b : prepared) {
            b.committingInCaller(false);
        }
        agent.inquireAbout(prepared);
    }
}
