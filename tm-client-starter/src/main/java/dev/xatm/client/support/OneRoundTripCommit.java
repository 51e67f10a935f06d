package dev.xatm.client.support;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.agent.Agent;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;
import dev.xatm.client.coordinator.PreparedBranch;
import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.Enlistment;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * the message budget for a two-phase global transaction whose gtrid never left this process, so that
 * every branch is this instance's own: no Begin and no RegisterBranch round trips; the calling thread
 * ends and prepares its branches itself, sends one commit request that carries their votes, and,
 * once the COMMIT decision is durable, commits them on the connections that prepared them and
 * acknowledges on the agent's stream. One branch commits in one phase with no message at all; a
 * rollback before the commit request needs none either (presumed abort: the coordinator never knew).
 *
 * <p>What keeps it as safe as the coordinator-driven path: the coordinator writes the same decision
 * record before it answers, and resends COMMIT to the branches if their acknowledgement does not
 * come (the application died, the answer was lost); while the calling thread waits for the answer,
 * the agent does not ask the coordinator about those branches (it would hear "unknown, roll back"),
 * and the coordinator remembers every gtrid it told to roll back that way, so a commit request still
 * on its way is refused. The moment the gtrid is about to leave the process (an outgoing HTTP call),
 * the transaction is begun and its branches registered, and it goes the coordinator-driven way.
 *
 * <p>The caller's method returns after its own branches are committed, so a read right after it sees
 * the writes. Three-phase commit gets the same budget in two requests ({@link ThreePhaseHeldCommit}),
 * when the server's Welcome says it takes them. Thread-safe; the per-transaction state is in the
 * scope and the branches.
 */
public final class OneRoundTripCommit {
    private final CoordinatorAccess coordinator;
    private final Enlistment enlistment;
    private final Agent agent;
    /** The same message budget for three-phase commit, in two requests (its timers need the second). */
    private final ThreePhaseHeldCommit threePhase;

    public OneRoundTripCommit(CoordinatorAccess coordinator, Enlistment enlistment, Agent agent) {
        this.coordinator = coordinator;
        this.enlistment = enlistment;
        this.agent = agent;
        this.threePhase = new ThreePhaseHeldCommit(coordinator, enlistment, agent);
    }

    /**
     * The path of a new transaction of {@code protocol}, or empty when it must be begun at the
     * coordinator now (3PC with a server that takes no CAN_COMMIT answers). Its deadline is kept by
     * the scope: every statement checks it, and the commit rolls back past it. (A coordinator's
     * ROLLBACK at the deadline would wait, parked, for the method to let go of its branches just the
     * same.)
     *
     * @param waitForCompletion how the coordinator-driven fallback commits, once the gtrid left the process
     */
    Optional<CommitPath> path(String gtrid, String name, long deadlineNanos, CommitProtocol protocol, boolean waitForCompletion) {
        if (protocol == CommitProtocol.THREE_PHASE ? !threePhase.available(gtrid) : protocol != CommitProtocol.TWO_PHASE) {
            return Optional.empty();
        }
        TxScope scope = new TxScope(gtrid, true, deadlineNanos, s -> {
            // The other service's branches register with the coordinator, which must know the transaction
            // and every branch that could be rolled back at its deadline: from here on it is coordinator-driven.
            coordinator.begin(gtrid, name, Math.max(1, remainingMillis(deadlineNanos)), protocol);
            enlistment.registerHeld(s);
        });
        return Optional.of(new CommitPath.OneRoundTrip(scope, this,
                new CommitPath.CoordinatorDriven(scope, coordinator, waitForCompletion)));
    }

    /** The scope's own branches; taken before it ends. */
    List<Branch> branches(TxScope scope) {
        return enlistment.heldBranches(scope);
    }

    /** Commits the scope's own branches as described above, or for 3PC as {@link ThreePhaseHeldCommit} does. */
    OutcomeReport commit(TxScope scope, List<Branch> own, String name, long deadlineNanos, CommitProtocol protocol) {
        if (protocol == CommitProtocol.THREE_PHASE && own.size() >= 2) {
            return threePhase.commit(scope.gtrid(), own, name, deadlineNanos);
        }
        return commit(scope, own, name, deadlineNanos);
    }

    /** Commits the scope's own branches as described above. */
    OutcomeReport commit(TxScope scope, List<Branch> own, String name, long deadlineNanos) {
        if (own.isEmpty()) {
            return new OutcomeReport(GlobalOutcome.COMMITTED, "no database work to commit");
        }
        if (own.size() == 1) {
            return onePhase(own.get(0));
        }
        for (Branch b : own) {
            b.committingInCaller(true);
        }
        try {
            List<PreparedBranch> votes = new ArrayList<>(own.size());
            List<Branch> yes = new ArrayList<>(own.size());
            for (Branch b : own) {
                BranchAnswer a = agent.runForCaller(b, BranchCommand.PREPARE);
                if (a == BranchAnswer.VOTE_YES) {
                    yes.add(b);
                    votes.add(new PreparedBranch(b.xid().bqual(), b.resource().resourceId(), PreparedBranch.Vote.YES));
                } else if (a == BranchAnswer.VOTE_READ_ONLY) {
                    votes.add(new PreparedBranch(b.xid().bqual(), b.resource().resourceId(), PreparedBranch.Vote.READ_ONLY));
                } else {
                    rollBack(own);
                    return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "the branch on " + b.resource().beanName()
                            + " could not be prepared (see the log); every branch was rolled back");
                }
            }
            if (yes.isEmpty()) {
                return new OutcomeReport(GlobalOutcome.COMMITTED, "every branch was read-only");
            }
            long leftMillis = remainingMillis(deadlineNanos);
            if (leftMillis <= 0) {
                rollBack(own);
                return new OutcomeReport(GlobalOutcome.TIMED_OUT, "the deadline passed while the branches were prepared");
            }
            // A failed call (the outcome is unknown to us) is handed back below, like any other failure.
            OutcomeReport r = coordinator.commitPrepared(scope.gtrid(), name, leftMillis, agent.agentId(), votes);
            switch (r.outcome()) {
                case COMMITTED -> finish(yes, BranchCommand.COMMIT);
                case ROLLED_BACK, TIMED_OUT -> finish(yes, BranchCommand.ROLLBACK);
                default -> handBack(own);
            }
            return r;
        } catch (RuntimeException unexpected) {
            // Whatever failed (the commit call, or a phase command), no branch may stay prepared with nobody
            // to finish it: only an inquiry settles them, answered now or once the coordinator decides.
            handBack(own);
            throw unexpected;
        } finally {
            for (Branch b : own) {
                b.committingInCaller(false);
            }
        }
    }

    /** Rolls the scope's own branches back; the coordinator never heard of them. */
    OutcomeReport rollback(List<Branch> own, String why) {
        rollBack(own);
        return new OutcomeReport(GlobalOutcome.ROLLED_BACK, why);
    }

    private OutcomeReport onePhase(Branch b) {
        BranchAnswer a = agent.runForCaller(b, BranchCommand.COMMIT_ONE_PHASE);
        return switch (a) {
            case DONE -> new OutcomeReport(GlobalOutcome.COMMITTED, "its single branch committed in one phase");
            case ROLLED_BACK_INSTEAD -> new OutcomeReport(GlobalOutcome.ROLLED_BACK, "the database rolled the single branch on "
                    + b.resource().beanName() + " back instead of committing it (see the log)");
            // The coordinator never heard of this transaction, so the caller is the one to be told.
            case HEURISTIC_COMMIT -> new OutcomeReport(GlobalOutcome.COMMITTED, "its single branch on " + b.resource().beanName()
                    + " was committed by the database on its own before the one-phase commit (see the log)");
            case HEURISTIC_ROLLBACK -> new OutcomeReport(GlobalOutcome.ROLLED_BACK, "the database rolled the single branch on "
                    + b.resource().beanName() + " back on its own (a heuristic decision; see the log)");
            case HEURISTIC_MIXED, HEURISTIC_HAZARD -> new OutcomeReport(GlobalOutcome.HEURISTIC_HAZARD, "the database answered the"
                    + " one-phase commit of its single branch on " + b.resource().beanName() + " with " + a + ": part or all of it"
                    + " may have been rolled back; check the data there");
            default -> new OutcomeReport(GlobalOutcome.HEURISTIC_HAZARD, "the one-phase commit of its single branch on "
                    + b.resource().beanName() + " lost its connection: whether the database committed it is unknown; check "
                    + "the data there");
        };
    }

    /**
     * Phase 2 of the own branches on their preparing connections; an ack for what took effect or ended in
     * a heuristic (the rest is resent).
     */
    private void finish(List<Branch> yes, BranchCommand command) {
        for (Branch b : yes) {
            BranchAnswer a = agent.runForCaller(b, command);
            if (a.endsPhaseTwo()) {
                agent.acknowledge(b, command, a); // a heuristic too: the coordinator must record it
            }
        }
    }

    /**
     * Rolls the branches back on their connections. One that stays prepared (its connection broke) is
     * handed to the agent: the coordinator does not know it, so its inquiry is answered ROLLBACK, which
     * the agent runs by xid on a fresh connection. Nothing else would ever ask, and it holds its locks.
     */
    private void rollBack(List<Branch> own) {
        List<Branch> left = new ArrayList<>();
        for (Branch b : own) {
            if (!agent.runForCaller(b, BranchCommand.ROLLBACK).endsPhaseTwo()) {
                left.add(b);
            }
        }
        if (!left.isEmpty()) {
            handBack(left);
        }
    }

    /** The outcome is not ours to know: the agent asks the coordinator about the prepared branches. */
    private void handBack(List<Branch> own) {
        for (Branch b : own) {
            b.committingInCaller(false);
        }
        agent.inquireAbout(own);
    }

    private static long remainingMillis(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }
}
