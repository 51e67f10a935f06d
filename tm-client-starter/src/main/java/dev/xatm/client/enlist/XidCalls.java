package dev.xatm.client.enlist;

import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The participant core's COMMIT or ROLLBACK of a prepared branch by xid, on a fresh pooled connection:
 * for a branch whose own connection is gone (its answer was lost, the process restarted) or that only
 * XA RECOVER knows. It names the outcome; the core decides what it means (XAER_NOTA after our own lost
 * commit is done, on a branch we prepared it is a hazard).
 *
 * <p>XAER_NOTA is {@link XaResult#NOT_FOUND} only when XA RECOVER on the same resource no longer lists
 * the xid: MariaDB answers XAER_NOTA from another connection for a branch still bound to its preparing
 * session, which is {@link XaResult#UNAVAILABLE} (try again once that session is gone). With several
 * candidate resources (the branch's database is not known) each is tried in turn; NOT_FOUND means none
 * has it. Stateless and thread-safe.
 */
public final class XidCalls {
    private static final Logger log = LoggerFactory.getLogger(XidCalls.class);

    private XidCalls() {
    }

    /** {@code op} ({@link XaOp#COMMIT} or {@link XaOp#ROLLBACK}) of {@code xid} on the first of {@code candidates} that has it. */
    public static XaResult run(TmXid xid, XaOp op, List<EnlistedResource> candidates) {
        if (op != XaOp.COMMIT && op != XaOp.ROLLBACK) {
            throw new IllegalArgumentException("only phase two runs by xid, not " + op);
        }
        for (EnlistedResource r : candidates) {
            XaResult result = runOn(r, xid, op);
            if (result != XaResult.NOT_FOUND) {
                return result;
            }
        }
        return XaResult.NOT_FOUND;
    }

    /** A fresh pooled connection of one resource and the driver's XAResource over it, for calls by xid. */
    public record Session(EnlistedResource resource, Connection connection, XAResource xa) {
        /** XA COMMIT (two-phase) or XA ROLLBACK of {@code xid}. */
        public void finish(TmXid xid, boolean commit) throws XAException {
            if (commit) {
                xa.commit(xid, false);
            } else {
                xa.rollback(xid);
            }
        }

        /** The connection is sound: back to the pool. */
        public void giveBack() {
            resource.giveBack(connection);
        }

        /** The call failed in a way that may have broken the connection: evicted from the pool. */
        public void discard() {
            resource.discard(connection);
        }
    }

    /**
     * A session on {@code r} for {@code what} of {@code xid}; empty, with a warning, when the pool or the
     * driver's XA cannot give one now (the caller retries later).
     */
    public static Optional<Session> open(EnlistedResource r, Object what, TmXid xid) {
        Connection c;
        try {
            c = r.borrow();
        } catch (SQLException e) {
            log.warn("{} of {} by xid: no connection to {} ({}); will retry", what, xid, r, e.toString());
            return Optional.empty();
        }
        try {
            return Optional.of(new Session(r, c, r.dialect().xaResource(c)));
        } catch (SQLException e) {
            r.discard(c);
            log.warn("{} of {} by xid: cannot use XA on {} ({}); will retry", what, xid, r, e.toString());
            return Optional.empty();
        }
    }

    private static XaResult runOn(EnlistedResource r, TmXid xid, XaOp op) {
        Optional<Session> opened = open(r, op, xid);
        if (opened.isEmpty()) {
            return XaResult.UNAVAILABLE;
        }
        Session session = opened.get();
        try {
            session.finish(xid, op == XaOp.COMMIT);
            session.giveBack();
            log.info("Branch {} on {} by xid: {}", xid, r, op == XaOp.COMMIT ? "committed" : "rolled back");
            return XaResult.OK;
        } catch (XAException e) {
            XaResult result = XaResults.of(e, op);
            if (result == XaResult.NOT_FOUND && stillListed(session.xa(), xid)) {
                // prepared, but bound to another live session (MariaDB): not finishable from here now
                session.giveBack();
                log.info("{} of {} on {}: still prepared by another session; will retry", op, xid, r);
                return XaResult.UNAVAILABLE;
            }
            if (result.isHeuristic() && XaResults.matchesDecision(result, op)) {
                forget(session.xa(), xid, r);
            }
            if (result == XaResult.UNAVAILABLE || result == XaResult.FAILED) {
                session.discard();
                log.warn("{} of {} by xid on {}: {} ({}); will retry", op, xid, r, result, XaErrorClassifier.describe(e));
            } else {
                session.giveBack();
            }
            return result;
        }
    }

    /** A heuristic that matches the decision has nothing to reconcile: the database may forget it. */
    public static void forget(XAResource xa, TmXid xid, EnlistedResource r) {
        try {
            xa.forget(xid);
        } catch (XAException f) {
            log.warn("XA FORGET of branch {} on {} failed: {}", xid, r, XaErrorClassifier.describe(f));
        }
    }

    /** Whether XA RECOVER on {@code xa}'s resource lists {@code xid}; true when it cannot tell (the safe answer). */
    public static boolean stillListed(XAResource xa, TmXid xid) {
        try {
            Xid[] listed = xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
            for (Xid x : listed == null ? new Xid[0] : listed) {
                if (TmXid.parse(x).map(xid::equals).orElse(false)) {
                    return true;
                }
            }
            return false;
        } catch (XAException e) {
            return true; // cannot tell: the safe answer is "not found yet"
        }
    }
}
