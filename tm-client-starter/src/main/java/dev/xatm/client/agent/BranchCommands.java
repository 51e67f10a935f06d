package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.BranchTable;
import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.XidMdc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * Runs one phase command on one branch, whoever asked (the coordinator's command, the calling
 * thread's own commit, an own 3PC decision, an in-doubt retry): on the branch this process holds, under
 * its lock, or by xid on a fresh connection when nobody holds it or its connection broke. A branch whose
 * XA call lost its answer is handed to {@link InDoubtBranches}, which retries it here.
 *
 * <p>Thread-safe: commands on one branch are serialised by the branch's own lock; the participant
 * timer is re-armed or disarmed under that lock too, in the same step as the command.
 */
final class BranchCommands {
    private static final Logger log = LoggerFactory.getLogger(BranchCommands.class);

    /** Tells the coordinator what a phase two that nobody asked for now did (see {@link #settleByXid}). */
    interface Acknowledger {
        void acknowledge(Branch b, BranchCommand command, BranchAnswer answer);
    }

    private final BranchTable table;
    private final Recoverer recoverer;
    private final ParticipantTimers timers;
    private final AgentListener listener;
    private final InDoubtBranches inDoubt;
    private final Acknowledger acks;
    /** A branch nobody holds was finished by xid: the recovery sweep forgets it. */
    private final Consumer<TmXid> settledUnheld;

    BranchCommands(BranchTable table, Recoverer recoverer, ParticipantTimers timers, AgentListener listener, AgentSettings settings,
                   ScheduledExecutorService recovery, Acknowledger acks, Consumer<TmXid> settledUnheld) {
        this.table = table;
        this.recoverer = recoverer;
        this.timers = timers;
        this.listener = listener;
        this.acks = acks;
        this.settledUnheld = settledUnheld;
        this.inDoubt = new InDoubtBranches(this::settleByXid, recovery, settings.backoffInitialMillis(), settings.backoffMaxMillis(),
                System::nanoTime);
    }

    /** Branches whose database state is in doubt, retried by xid. */
    InDoubtBranches inDoubt() {
        return inDoubt;
    }

    BranchAnswer execute(TmXid xid, BranchCommand command, long participantTimeoutMillis) {
        try (XidMdc.Scope mdc = XidMdc.put(xid.gtrid())) {
            return executeHeldOrNot(xid, command, participantTimeoutMillis);
        }
    }

    private BranchAnswer executeHeldOrNot(TmXid xid, BranchCommand command, long participantTimeoutMillis) {
        Branch b = table.get(xid);
        if (b == null) {
            return switch (command) {
                // not ours (any more): its work died with its session
                case PREPARE, CAN_COMMIT, PRE_COMMIT -> BranchAnswer.VOTE_NO;
                case COMMIT_ONE_PHASE -> {
                    log.warn("COMMIT_ONE_PHASE for {} which this agent does not hold; answering rolled back", xid);
                    yield BranchAnswer.ROLLED_BACK_INSTEAD;
                }
                case COMMIT, ROLLBACK -> finishUnheld(xid, command == BranchCommand.COMMIT);
            };
        }
        BranchAnswer answer;
        synchronized (b) {
            answer = executeLocked(b, command, participantTimeoutMillis);
            timers.afterCommand(b, command, answer);
        }
        watchIfInDoubt(b, command, answer);
        if (b.heuristic()) {
            listener.heuristic(xid.toString());
        }
        table.settled(b);
        return answer;
    }

    /** One command on a branch whose lock the caller holds; a prepared branch whose connection broke is finished by xid. */
    BranchAnswer executeLocked(Branch b, BranchCommand command, long participantTimeoutMillis) {
        if ((b.detached() && (command == BranchCommand.COMMIT || command == BranchCommand.ROLLBACK))
                || (b.inDoubt() && command == BranchCommand.ROLLBACK)) {
            boolean commit = command == BranchCommand.COMMIT;
            BranchAnswer answer = recoverer.finish(b.xid(), commit, b.resource());
            if (answer.endsPhaseTwo()) {
                b.finishedByXid(commit);
                listener.settledByRecovery("in_doubt");
            }
            return answer;
        }
        return b.execute(command, participantTimeoutMillis);
    }

    /**
     * Whether this agent still drives {@code xid} (a live branch, or one in doubt it retries). A branch
     * it remembers as finished does not count: listed by XA RECOVER, it is one we wrongly took for done,
     * and the sweep must not skip it.
     */
    boolean drives(TmXid xid) {
        Branch b = table.get(xid);
        return b != null && !b.isFinished();
    }

    /** Phase 2 by xid of a branch this agent does not hold (found by XA RECOVER, or forgotten). */
    private BranchAnswer finishUnheld(TmXid xid, boolean commit) {
        BranchAnswer answer = recoverer.finish(xid, commit, null);
        if (answer.endsPhaseTwo()) {
            settledUnheld.accept(xid);
        }
        return answer;
    }

    /**
     * A branch whose last XA call lost its answer is retried by xid until the database confirms: a
     * PREPARE that did not answer is rolled back (it voted NO); a COMMIT or ROLLBACK that did not is
     * the coordinator's decision, retried here rather than only on the coordinator's next resend,
     * which may be long (or, for a transaction it never heard of, never) coming.
     */
    private void watchIfInDoubt(Branch b, BranchCommand command, BranchAnswer answer) {
        if (b.inDoubt()) {
            inDoubt.add(b, false);
        } else if (answer == BranchAnswer.NONE && (command == BranchCommand.COMMIT || command == BranchCommand.ROLLBACK)
                && b.detached()) {
            if (command == BranchCommand.COMMIT) {
                recoverer.commitUnanswered(b.xid()); // so a "no such branch" later reads as this commit having run
            }
            inDoubt.add(b, command == BranchCommand.COMMIT);
        }
    }

    /** One attempt of {@link InDoubtBranches}: phase 2 by xid under the branch's lock; true once it is done. */
    private boolean settleByXid(Branch b, boolean commit) {
        BranchCommand command = commit ? BranchCommand.COMMIT : BranchCommand.ROLLBACK;
        BranchAnswer answer;
        synchronized (b) {
            if (!b.inDoubt() && !b.detached()) {
                return true; // the caller's rollback or the coordinator's resend finished it meanwhile
            }
            answer = executeLocked(b, command, 0);
            if (!answer.endsPhaseTwo()) {
                return false;
            }
        }
        table.settled(b);
        if (commit || answer.isHeuristic()) {
            acks.acknowledge(b, command, answer); // the coordinator knows the transaction and waits for this
        }
        return true;
    }
}
