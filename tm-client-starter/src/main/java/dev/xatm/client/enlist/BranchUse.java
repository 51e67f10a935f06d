package dev.xatm.client.enlist;

import dev.xatm.client.GlobalRollbackException;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the business code did with one {@link Branch}: how many scopes hold it, whether anything that
 * may write ran on it, why it is doomed, the phase command parked until it is let go of, and who
 * rolled it back under the business code's feet. The branch reads it to decide its vote.
 *
 * <p>Guarded by the branch's lock, except {@link #markDirty}: set by the business thread without a
 * lock (volatile), and read by the agent at PREPARE after the last holder released the branch under
 * that lock, which orders the two.
 */
final class BranchUse {
    /** Under the branch's name: these lines are the branch's story. */
    private static final Logger log = LoggerFactory.getLogger(Branch.class);
    private static final String BY_COORDINATOR = "by the coordinator (its deadline passed, another branch failed, or an operator"
            + " rolled it back)";

    private final TmXid xid;
    private final EnlistedResource resource;
    private int holders;
    /** A phase command that arrived while the branch was held; run when the last holder lets go. */
    private BranchCommand deferred;
    /** Set (never cleared) before anything that may write runs on the branch ({@link BranchConnection}). */
    private volatile boolean dirty;
    /** Set when a business scope failed or a local rollback() ran: phase 1 must vote NO. */
    private String doomReason;
    /**
     * Who rolled the branch back while it was still in the business code's hands, and why, for the
     * error its next statement gets: the coordinator (a parked ROLLBACK) or this service's own agent
     * (its stream broke). Null until then.
     */
    private String rollbackCause;

    BranchUse(TmXid xid, EnlistedResource resource) {
        this.xid = xid;
        this.resource = resource;
    }

    void hold() {
        holders++;
    }

    boolean held() {
        return holders > 0;
    }

    /**
     * A scope that used the branch ended; {@code failed} dooms the branch. Returns the parked command
     * to run now that nobody uses the connection, or null.
     */
    BranchCommand release(boolean failed, String why) {
        if (failed) {
            doom(why);
        }
        holders--;
        if (holders == 0 && deferred != null) {
            BranchCommand c = deferred;
            deferred = null;
            return c;
        }
        return null;
    }

    void doom(String reason) {
        if (doomReason == null) {
            doomReason = reason;
            log.debug("Branch {} on {} doomed: {}", xid, resource, reason);
        }
    }

    /** Why phase 1 must vote NO; null while nothing doomed the branch. */
    String doomReason() {
        return doomReason;
    }

    void markDirty() {
        dirty = true;
    }

    boolean dirty() {
        return dirty;
    }

    /** Parks {@code c} until the last holder lets go; a parked ROLLBACK is the coordinator's. */
    void park(BranchCommand c) {
        deferred = c;
        if (c == BranchCommand.ROLLBACK && rollbackCause == null) {
            rollbackCause = BY_COORDINATOR;
        }
        log.debug("Branch {}: {} parked until the business code releases the connection", xid, c);
    }

    /** This service's agent rolls the branch back ({@code why}); its next statement is told so. */
    void abandoned(String why) {
        rollbackCause = "by this service's agent: " + why;
    }

    /** Refuses new statements on a branch the coordinator already rolled back or that ended ({@code state}). */
    void checkUsable(Branch.State state) {
        if (rollbackCause != null || state != Branch.State.ACTIVE) {
            String what = rollbackCause != null ? "was rolled back " + rollbackCause
                    : state == Branch.State.ROLLED_BACK ? "was rolled back " + BY_COORDINATOR
                    : "has ended its branch here (" + state + ")";
            throw new GlobalRollbackException("Global transaction " + xid.gtrid() + " " + what + "; no more work can be done in it on "
                    + resource.beanName());
        }
    }
}
