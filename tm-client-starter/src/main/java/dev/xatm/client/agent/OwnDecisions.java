package dev.xatm.client.agent;

import dev.xatm.client.enlist.Branch;
import dev.xatm.client.enlist.BranchCommand;
import dev.xatm.client.enlist.BranchAnswer;
import dev.xatm.client.enlist.BranchTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three-phase commit's own decisions: a participant timer ran out, so the branch decides alone
 * (rolls back after a YES to CAN_COMMIT, commits after a YES to PRE_COMMIT) and the decision is
 * reported to the owner of its gtrid with an autonomous Ack, at once when its link is up, else after
 * its next Welcome ({@link PendingReports}).
 *
 * <p>Thread-safe: the decision runs under the branch's lock, where the command it waited for would
 * run; a report is queued before it is sent, so a Welcome racing with it sends it either way.
 */
final class OwnDecisions {
    private static final Logger log = LoggerFactory.getLogger(OwnDecisions.class);

    private final LinkSet links;
    private final BranchTable table;
    private final BranchCommands commands;
    private final ParticipantTimers timers;
    private final AgentListener listener;
    private final PendingReports reports = new PendingReports(10_000);
    /** Delay before an own decision that could not reach its database is tried again. */
    private final long retryMillis;

    OwnDecisions(AgentSettings settings, LinkSet links, BranchTable table, BranchCommands commands, ParticipantTimers timers,
                 AgentListener listener) {
        this.links = links;
        this.table = table;
        this.commands = commands;
        this.timers = timers;
        this.listener = listener;
        this.retryMillis = Math.max(100, settings.backoffInitialMillis());
    }

    /**
     * A participant timer ran out: the branch answered YES to CAN_COMMIT and no PRE_COMMIT
     * came, so it rolls back; or it acknowledged PRE_COMMIT and no decision came, so it commits, on
     * the connection that prepared it (MariaDB binds a prepared branch to its session). A decision
     * that cannot reach the database now is tried again shortly; a COMMIT or ROLLBACK arriving
     * meanwhile disarms it.
     */
    void decideAlone(Branch b, long token) {
        BranchCommand decision;
        try {
            synchronized (b) {
                if (!b.timerDue(token)) {
                    return; // the command it waited for was handled first
                }
                decision = switch (b.state()) {
                    case WILLING -> BranchCommand.ROLLBACK;
                    case PREPARED -> BranchCommand.COMMIT;
                    default -> null;
                };
                if (decision == null) {
                    return;
                }
                BranchAnswer answer = commands.executeLocked(b, decision, 0);
                if (!answer.endsPhaseTwo()) {
                    log.warn("Branch {} timed out waiting for the coordinator, but its own {} did not take effect yet; trying again in {} ms",
                            b, decision, retryMillis);
                    timers.arm(b, retryMillis);
                    return;
                }
                b.decidedOnItsOwn(decision);
            }
        } catch (RuntimeException e) {
            log.error("Own decision for branch {} failed unexpectedly; trying again in {} ms", b, retryMillis, e);
            synchronized (b) {
                timers.arm(b, retryMillis);
            }
            return;
        }
        if (b.heuristic()) {
            listener.heuristic(b.xid().toString());
        }
        table.settled(b);
        log.warn("Branch {} {} ON ITS OWN: no {} from {} within its participant timeout ({} ms, three-phase commit); reported to the"
                        + " coordinator {}", b, decision == BranchCommand.COMMIT ? "COMMITTED" : "ROLLED BACK",
                decision == BranchCommand.COMMIT ? "COMMIT or ROLLBACK" : "PRE_COMMIT or ROLLBACK", links.describeRoute(b.xid().gtrid()),
                b.participantTimeoutMillis(), links.serving(b.xid().gtrid()) != null ? "now" : "when its stream is back");
        listener.decidedOnItsOwn(decision == BranchCommand.COMMIT ? "commit" : "rollback");
        // queued first, then sent if connected: a Welcome racing with this sends it either way
        reports.add(b.xid(), decision);
        if (links.serving(b.xid().gtrid()) != null) {
            sendPending();
        }
    }

    /** Sends the own-decision reports whose owner's link is connected; the others wait for its Welcome. */
    void sendPending() {
        reports.drainIf(xid -> links.serving(xid.gtrid()) != null).forEach((xid, decision) -> AgentMessages.reply(
                links.serving(xid.gtrid()), xid, decision,
                decision == BranchCommand.COMMIT ? BranchAnswer.DECIDED_COMMIT : BranchAnswer.DECIDED_ROLLBACK, listener));
    }
}
