package dev.xatm.client.enlist;

import dev.xatm.core.participant.XaOp;
import dev.xatm.core.participant.XaResult;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The XA side of one {@link Branch}: its pooled connection, the driver's XAResource over it, the XA
 * calls, and what their errors mean ({@link XaErrorClassifier}). Each call that can end the branch
 * returns an {@link Ended}: the answer for the coordinator and the state the branch takes, which the
 * branch applies; this class keeps no state of the branch beyond the connection.
 *
 * <p>Not thread-safe: used only under the branch's lock.
 *
 * <p>The connection is let go of when the branch ends ({@link #release}), never earlier: MariaDB binds
 * a prepared branch to its session, so phase 2 runs on the preparing connection. A connection whose
 * state is doubtful is evicted instead of going back to the pool.
 */
final class BranchXa {
    /** Under the branch's name: these lines are the branch's story, and operators grep for it. */
    private static final Logger log = LoggerFactory.getLogger(Branch.class);
    /** How long CAN_COMMIT waits for the database to confirm the connection works (Connection.isValid). */
    private static final int HEALTH_CHECK_SECONDS = 2;

    /**
     * What an XA call did to the branch: {@code answer} for the coordinator; {@code state} the branch's
     * new state, or null when it keeps its state (a phase two to be retried).
     */
    record Ended(BranchAnswer answer, Branch.State state) {}

    private final TmXid xid;
    private final EnlistedResource resource;
    private final boolean autoCommitBefore;
    private Connection connection; // null once given back or discarded
    private XAResource xa;

    BranchXa(TmXid xid, EnlistedResource resource, Connection connection, XAResource xa, boolean autoCommitBefore) {
        this.xid = xid;
        this.resource = resource;
        this.connection = connection;
        this.xa = xa;
        this.autoCommitBefore = autoCommitBefore;
    }

    /** The pooled connection; null once the branch let go of it. */
    Connection connection() {
        return connection;
    }

    /** Whether the branch still has its connection (else phase 2 runs by xid on a fresh one). */
    boolean attached() {
        return xa != null;
    }

    /** Whether the database confirms that nothing was written on the connection (the dialect decides how). */
    boolean confirmsNothingWritten() {
        return resource.dialect().confirmsNothingWritten(connection);
    }

    /** Whether the connection still answers. */
    boolean answers() {
        try {
            return connection != null && connection.isValid(HEALTH_CHECK_SECONDS);
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * XA END (TMSUCCESS). A failure is logged as {@code "XA END of <what> <xid> on <resource> failed<then>"}
     * and answered false; the caller rolls the branch back.
     */
    boolean end(String what, String then) {
        try {
            xa.end(xid, XAResource.TMSUCCESS);
            return true;
        } catch (XAException e) {
            log.warn("XA END of {} {} on {} failed{}: {}", what, xid, resource, then, XaErrorClassifier.describe(e));
            return false;
        }
    }

    /** XA PREPARE of a branch already XA-ended. */
    Ended prepare() {
        try {
            xa.prepare(xid); // none of our drivers ever answers XA_RDONLY
            return new Ended(BranchAnswer.VOTE_YES, Branch.State.PREPARED);
        } catch (XAException e) {
            if (XaErrorClassifier.outcomeUnknown(e)) {
                // The database may have run the PREPARE and lost only the answer (a killed connection):
                // a prepared branch outlives its session, with its locks. This connection cannot settle it;
                // the agent rolls it back by xid on a fresh one. Still a NO: nobody may commit on it.
                log.warn("XA PREPARE of branch {} on {} did not answer ({}), voting NO; the branch may be prepared in the "
                        + "database and is rolled back by xid on another connection", xid, resource, XaErrorClassifier.describe(e));
                return evicted(BranchAnswer.VOTE_NO, Branch.State.IN_DOUBT);
            }
            // PostgreSQL turns a failed PREPARE into a rollback; MySQL/MariaDB leave it idle or rolled
            // back; a rollback attempt settles all of them.
            log.info("XA PREPARE of branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            return rolledBackAfterFailure(BranchAnswer.VOTE_NO);
        }
    }

    /** One-phase commit of an ended branch that wrote nothing; see {@code Branch.finishReadOnly}. */
    Ended commitReadOnly() {
        try {
            xa.commit(xid, true);
        } catch (XAException e) {
            log.warn("One-phase commit of read-only branch {} on {} failed, voting NO: {}", xid, resource, XaErrorClassifier.describe(e));
            return rolledBackAfterFailure(BranchAnswer.VOTE_NO);
        }
        release(true);
        log.debug("Branch {} on {} wrote nothing: finished at prepare, votes READ_ONLY", xid, resource);
        return new Ended(BranchAnswer.VOTE_READ_ONLY, Branch.State.READ_ONLY);
    }

    /** XA COMMIT (two-phase) of a prepared branch on its own connection. */
    Ended commit() {
        try {
            xa.commit(xid, false);
            release(true);
            return new Ended(BranchAnswer.DONE, Branch.State.COMMITTED);
        } catch (XAException e) {
            XaErrorClassifier.Verdict v = XaErrorClassifier.classify(e, XaOperation.COMMIT);
            switch (v) {
                case ALREADY_DONE:
                    // XAER_NOTA on the connection that prepared the branch and never committed it (a commit
                    // that fails lets go of this connection): the branch vanished without our commit, rolled
                    // back by hand, say. What became of its work is unknown.
                    return endHeuristically(BranchAnswer.HEURISTIC_HAZARD, XaOperation.COMMIT, e, Branch.State.COMMITTED);
                case HEURISTIC:
                    return endHeuristically(XaErrorClassifier.heuristicAnswer(e, XaOperation.COMMIT), XaOperation.COMMIT, e,
                            Branch.State.COMMITTED);
                default:
                    log.warn("XA COMMIT of branch {} on {} failed ({}), will retry: {}", xid, resource, v, XaErrorClassifier.describe(e));
                    // the branch stays prepared in the database; a fresh connection can finish it later
                    // (PostgreSQL from any session; MariaDB once this session is gone)
                    return evicted(BranchAnswer.NONE, null);
            }
        }
    }

    /** XA ROLLBACK of a prepared branch on its own connection. */
    Ended rollback() {
        try {
            xa.rollback(xid);
            release(true);
            return new Ended(BranchAnswer.DONE, Branch.State.ROLLED_BACK);
        } catch (XAException e) {
            XaErrorClassifier.Verdict v = XaErrorClassifier.classify(e, XaOperation.ROLLBACK);
            if (v == XaErrorClassifier.Verdict.ALREADY_DONE) {
                release(true);
                return new Ended(BranchAnswer.DONE, Branch.State.ROLLED_BACK);
            }
            if (v == XaErrorClassifier.Verdict.HEURISTIC) {
                return endHeuristically(XaErrorClassifier.heuristicAnswer(e, XaOperation.ROLLBACK), XaOperation.ROLLBACK, e,
                        Branch.State.ROLLED_BACK);
            }
            log.warn("XA ROLLBACK of branch {} on {} failed ({}), will retry: {}", xid, resource, v, XaErrorClassifier.describe(e));
            return evicted(BranchAnswer.NONE, null);
        }
    }

    /** XA COMMIT in one phase of an ended branch. */
    Ended commitOnePhase() {
        try {
            xa.commit(xid, true);
            release(true);
            return new Ended(BranchAnswer.DONE, Branch.State.COMMITTED);
        } catch (XAException e) {
            BranchAnswer heuristicEnd = XaErrorClassifier.heuristicAnswer(e, XaOperation.COMMIT_ONE_PHASE);
            if (heuristicEnd != null) {
                return endHeuristically(heuristicEnd, XaOperation.COMMIT_ONE_PHASE, e,
                        heuristicEnd == BranchAnswer.HEURISTIC_ROLLBACK ? Branch.State.ROLLED_BACK : Branch.State.COMMITTED);
            }
            int code = XaErrorClassifier.effectiveCode(e);
            boolean rolledBack = (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) || code == XAException.XAER_NOTA;
            if (rolledBack) {
                return evicted(BranchAnswer.ROLLED_BACK_INSTEAD, Branch.State.ROLLED_BACK);
            }
            if (XaErrorClassifier.classify(e, XaOperation.COMMIT) == XaErrorClassifier.Verdict.RETRY) {
                // the commit may or may not have happened: never guess
                log.error("One-phase commit of branch {} on {} lost its connection: outcome unknown ({}); "
                        + "not acknowledged, the coordinator reports it as a heuristic hazard", xid, resource, XaErrorClassifier.describe(e));
                return evicted(BranchAnswer.NONE, Branch.State.UNKNOWN);
            }
            log.warn("One-phase commit of branch {} on {} failed, rolling back: {}", xid, resource, XaErrorClassifier.describe(e));
            return rolledBackAfterFailure(BranchAnswer.ROLLED_BACK_INSTEAD);
        }
    }

    /**
     * Phase 2 ended in the database's own decision ({@code answer}, a heuristic): nothing more can be done
     * here, and it is reported as such. One that matches what {@code op} asked for is forgotten in the
     * database at once (it has nothing to reconcile); any other is left there for an operator, and a
     * resent command hears it again.
     */
    private Ended endHeuristically(BranchAnswer answer, XaOperation op, XAException e, Branch.State end) {
        if (XaErrorClassifier.matchesDecision(answer, op)) {
            log.warn("{} of branch {} on {}: the database had already decided it the same way on its own ({}); reported as {}"
                    + " and forgotten in the database", op, xid, resource, XaErrorClassifier.describe(e), answer);
            try {
                xa.forget(xid);
            } catch (XAException f) {
                log.warn("XA FORGET of branch {} on {} failed: {}", xid, resource, XaErrorClassifier.describe(f));
            }
        } else {
            log.error("HEURISTIC outcome: {} of branch {} on {} answered {}. Reported to the coordinator as {}; the transaction"
                    + " needs an operator.", op, xid, resource, XaErrorClassifier.describe(e), answer);
        }
        return evicted(answer, end);
    }

    /** After a failed PREPARE or commit: a rollback attempt, and the connection is evicted. */
    private Ended rolledBackAfterFailure(BranchAnswer answer) {
        try {
            xa.rollback(xid);
        } catch (XAException ignored) {
            // already rolled back, or the connection is gone (then the session's end rolls it back)
        }
        return evicted(answer, Branch.State.ROLLED_BACK);
    }

    /**
     * Ends (unless {@code ended}: CAN_COMMIT did) and rolls back a branch that never prepared; whatever
     * fails, the session's end rolls it back.
     */
    void rollbackUnprepared(boolean ended) {
        boolean clean = true;
        if (!ended) {
            try {
                xa.end(xid, XAResource.TMFAIL);
            } catch (XAException e) {
                // already ended (TMSUCCESS before a failed prepare) or the connection is gone
                clean = false;
            }
        }
        try {
            xa.rollback(xid);
        } catch (XAException e) {
            clean = clean && XaErrorClassifier.classify(e, XaOperation.ROLLBACK) == XaErrorClassifier.Verdict.ALREADY_DONE;
        }
        release(clean);
    }

    /**
     * Runs one of the participant core's XA calls on the branch's connection and names its outcome
     * ({@link XaResults}); the core decides what it means. {@link XaOp#END_CHECKED} first checks that the
     * connection still answers, and reports {@link XaResult#UNAVAILABLE} without XA END when it does not.
     * An answer lost with the connection evicts it: a COMMIT or ROLLBACK after that runs by xid on a
     * fresh one ({@link XidCalls}), anything else is {@link XaResult#UNAVAILABLE}. A heuristic that matches the call is forgotten in the database at once. The
     * connection is given back only by {@link #finish}, when the core ends the branch.
     */
    XaResult run(XaOp op) {
        if (xa == null) {
            // the connection is gone (a lost answer evicted it): phase two runs by xid on a fresh one
            return op == XaOp.COMMIT || op == XaOp.ROLLBACK ? XidCalls.run(xid, op, java.util.List.of(resource)) : XaResult.UNAVAILABLE;
        }
        if (op == XaOp.END_CHECKED && !answers()) {
            return XaResult.UNAVAILABLE;
        }
        try {
            switch (op) {
                case END, END_CHECKED -> xa.end(xid, XAResource.TMSUCCESS);
                case END_FAIL -> xa.end(xid, XAResource.TMFAIL);
                case PREPARE -> xa.prepare(xid); // none of our drivers ever answers XA_RDONLY
                case COMMIT -> xa.commit(xid, false);
                case COMMIT_ONE_PHASE -> xa.commit(xid, true);
                case ROLLBACK -> xa.rollback(xid);
                case RECOVER -> throw new IllegalArgumentException("XA RECOVER runs on a resource, not on a branch");
            }
            return XaResult.OK;
        } catch (XAException e) {
            XaResult r = XaResults.of(e, op);
            if (op != XaOp.END_FAIL) {
                log.info("XA {} of branch {} on {}: {} ({})", op, xid, resource, r, XaErrorClassifier.describe(e));
            }
            if (r.isHeuristic() && XaResults.matchesDecision(r, op)) {
                XidCalls.forget(xa, xid, resource);
            }
            if (r == XaResult.UNAVAILABLE || r.isHeuristic()) {
                release(false);
            }
            return r;
        }
    }

    /** The core ended the branch: its connection goes back to the pool when {@code clean}, else it is evicted. */
    void finish(boolean clean) {
        release(clean);
    }

    /** The branch ends here with a connection that may not serve anyone else: it is evicted, not pooled. */
    private Ended evicted(BranchAnswer answer, Branch.State state) {
        release(false);
        return new Ended(answer, state);
    }

    /**
     * Lets go of the connection: back to the pool when the branch ended cleanly, evicted otherwise
     * (a broken or doubtful session must not serve the next borrower; for a prepared branch the
     * database keeps it, and the agent finishes it by xid on a fresh connection).
     */
    private void release(boolean clean) {
        Connection c = connection;
        connection = null;
        xa = null;
        if (c == null) {
            return;
        }
        if (clean) {
            try {
                if (c.getAutoCommit() != autoCommitBefore) {
                    c.setAutoCommit(autoCommitBefore);
                }
                resource.giveBack(c);
                return;
            } catch (SQLException e) {
                log.debug("Connection of branch {} not reusable: {}", xid, e.toString());
            }
        }
        resource.discard(c);
    }
}
