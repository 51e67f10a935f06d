package dev.xatm.server.it;

import dev.xatm.core.participant.BranchKey;
import dev.xatm.core.participant.XaCall;
import dev.xatm.core.participant.XaResult;
import dev.xatm.protocol.TmXid;
import dev.xatm.testkit.TestDb;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.XAConnection;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The test agent's XA executor: the database session of each branch it started, and every XA call
 * the participant core asks for, run on real PostgreSQL and MariaDB and reported back as an
 * {@link XaResult}. It decides nothing about the protocol; it only knows where a call runs:
 * <ul>
 *   <li>END, PREPARE and one-phase COMMIT on the session that started the branch;</li>
 *   <li>COMMIT and ROLLBACK on that session while the branch still has it (MariaDB binds a prepared
 *       branch to it, and refuses the xid to every other session while it lives), else by xid on a fresh
 *       one, on the database whose XA RECOVER lists it when the core does not know the database;</li>
 *   <li>XA RECOVER on a fresh session, this agent's xids only (our format id and gtrid prefix: the
 *       databases are shared by concurrent test runs, and each agent sees only its own test's branches).</li>
 * </ul>
 * Thread-safe; one branch's calls are serialised by the caller.
 */
final class XaSessions {
    private static final Logger log = LoggerFactory.getLogger(XaSessions.class);
    /** CAN_COMMIT's health check, as the starter's agent runs it. */
    private static final int HEALTH_CHECK_SECONDS = 2;

    private final String agentId;
    private final String gtridPrefix;
    private final Map<String, TestDb> dbs = new LinkedHashMap<>();
    private final ConcurrentHashMap<BranchKey, Session> sessions = new ConcurrentHashMap<>();

    /** A branch's database and the session that started it; the session is null once closed. */
    private static final class Session {
        final TestDb db;
        XAConnection xa; // guarded by this

        Session(TestDb db, XAConnection xa) {
            this.db = db;
            this.xa = xa;
        }

        synchronized XAConnection open() throws SQLException {
            if (xa == null) {
                throw new SQLException("the branch's session is closed");
            }
            return xa;
        }

        synchronized boolean isOpen() {
            return xa != null;
        }

        synchronized void close() {
            if (xa != null) {
                try {
                    xa.close();
                } catch (SQLException ignored) {
                    // the session is gone either way
                }
                xa = null;
            }
        }
    }

    XaSessions(String agentId, String gtridPrefix, List<TestDb> resources) {
        this.agentId = agentId;
        this.gtridPrefix = gtridPrefix;
        for (TestDb db : resources) {
            dbs.put(db.resourceId(), db);
        }
    }

    List<String> resourceIds() {
        return List.copyOf(dbs.keySet());
    }

    /** XA START of a new branch on a new session of {@code db}; the session stays with the branch. */
    void start(TmXid xid, TestDb db) throws SQLException, XAException {
        XAConnection xa = db.openXa();
        try {
            xa.getXAResource().start(xid, XAResource.TMNOFLAGS);
        } catch (XAException | RuntimeException e) {
            xa.close();
            throw e;
        }
        sessions.put(key(xid), new Session(db, xa));
    }

    /** The branch's session for a business statement; fails once the branch ended here. */
    Connection connection(TmXid xid) throws SQLException {
        Session s = sessions.get(key(xid));
        if (s == null) {
            throw new SQLException("branch " + xid + " has no session in agent " + agentId);
        }
        return s.open().getConnection();
    }

    /** Closes the branch's session (what is not prepared rolls back with it); later calls go by xid. */
    void close(BranchKey key) {
        Session s = sessions.get(key);
        if (s != null) {
            s.close();
        }
    }

    void closeAll() {
        sessions.values().forEach(Session::close);
    }

    // ---- the calls ----

    XaResult run(XaCall c) {
        TmXid xid = new TmXid(c.key().gtrid(), c.key().bqual());
        Session s = sessions.get(c.key());
        try {
            switch (c.op()) {
                case END -> s(s, xid).end(xid, XAResource.TMSUCCESS);
                case END_CHECKED -> {
                    if (s == null || !s.open().getConnection().isValid(HEALTH_CHECK_SECONDS)) {
                        return XaResult.UNAVAILABLE;
                    }
                    s(s, xid).end(xid, XAResource.TMSUCCESS);
                }
                case END_FAIL -> s(s, xid).end(xid, XAResource.TMFAIL);
                case PREPARE -> s(s, xid).prepare(xid); // these drivers never answer XA_RDONLY
                case COMMIT_ONE_PHASE -> s(s, xid).commit(xid, true);
                case COMMIT, ROLLBACK -> {
                    return phaseTwo(c, s, xid);
                }
                case RECOVER -> throw new IllegalArgumentException("XA RECOVER runs through recover()");
            }
            return XaResult.OK;
        } catch (XAException e) {
            return classify(e, xid, s == null ? null : s.db);
        } catch (SQLException | RuntimeException e) {
            log.info("{}: XA {} of {} failed: {}", agentId, c.op(), xid, e.toString());
            return XaResult.UNAVAILABLE;
        }
    }

    private XAResource s(Session s, TmXid xid) throws SQLException {
        if (s == null) {
            throw new SQLException("branch " + xid + " has no session");
        }
        return s.open().getXAResource();
    }

    private XaResult phaseTwo(XaCall c, Session s, TmXid xid) throws SQLException {
        boolean commit = c.op() == dev.xatm.core.participant.XaOp.COMMIT;
        if (s != null && s.isOpen()) {
            try {
                XAResource r = s.open().getXAResource();
                if (commit) {
                    r.commit(xid, false);
                } else {
                    r.rollback(xid);
                }
                return XaResult.OK;
            } catch (XAException e) {
                return classify(e, xid, s.db);
            }
        }
        TestDb db = s != null ? s.db : c.resourceId() != null ? dbs.get(c.resourceId()) : listing(xid).orElse(null);
        if (db == null) {
            return XaResult.NOT_FOUND; // no database of ours lists it: nothing is prepared anywhere
        }
        XAConnection fresh = db.openXa();
        try {
            if (commit) {
                fresh.getXAResource().commit(xid, false);
            } else {
                fresh.getXAResource().rollback(xid);
            }
            return XaResult.OK;
        } catch (XAException e) {
            return classify(e, xid, db);
        } finally {
            fresh.close();
        }
    }

    /** What an XAException means, as the core reads it; XAER_NOTA is NOT_FOUND only if XA RECOVER agrees. */
    private XaResult classify(XAException e, TmXid xid, TestDb db) {
        log.info("{}: XA call on {} answered errorCode={} {}", agentId, xid, e.errorCode, e.getMessage());
        if (e.errorCode >= XAException.XA_RBBASE && e.errorCode <= XAException.XA_RBEND) {
            return XaResult.ROLLED_BACK;
        }
        return switch (e.errorCode) {
            case XAException.XAER_NOTA -> stillListed(xid, db) ? XaResult.UNAVAILABLE : XaResult.NOT_FOUND;
            case XAException.XAER_RMFAIL -> XaResult.UNAVAILABLE;
            case XAException.XA_HEURCOM -> XaResult.HEURISTIC_COMMIT;
            case XAException.XA_HEURRB -> XaResult.HEURISTIC_ROLLBACK;
            case XAException.XA_HEURMIX -> XaResult.HEURISTIC_MIXED;
            case XAException.XA_HEURHAZ -> XaResult.HEURISTIC_HAZARD;
            default -> XaResult.FAILED;
        };
    }

    /** MariaDB answers XAER_NOTA to another session while the preparing one lives: still there, just not reachable. */
    private boolean stillListed(TmXid xid, TestDb db) {
        Optional<TestDb> where = listing(xid);
        return where.isPresent() && (db == null || where.get() == db);
    }

    private Optional<TestDb> listing(TmXid xid) {
        for (TestDb db : dbs.values()) {
            if (recover(db.resourceId()).map(l -> l.contains(key(xid))).orElse(false)) {
                return Optional.of(db);
            }
        }
        return Optional.empty();
    }

    /** XA RECOVER on one database: this agent's prepared branches there; empty if the database did not answer. */
    Optional<List<BranchKey>> recover(String resourceId) {
        TestDb db = dbs.get(resourceId);
        try {
            XAConnection xa = db.openXa();
            try {
                List<BranchKey> ours = new ArrayList<>();
                for (Xid raw : xa.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)) {
                    TmXid.parse(raw).filter(x -> x.gtrid().startsWith(gtridPrefix + "-")).ifPresent(x -> ours.add(key(x)));
                }
                return Optional.of(ours);
            } finally {
                xa.close();
            }
        } catch (SQLException | XAException e) {
            log.warn("{}: XA RECOVER on {} failed: {}", agentId, db, e.toString());
            return Optional.empty();
        }
    }

    static BranchKey key(TmXid xid) {
        return new BranchKey(xid.gtrid(), xid.bqual());
    }
}
