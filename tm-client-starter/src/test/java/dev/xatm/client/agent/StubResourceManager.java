package dev.xatm.client.agent;

import dev.xatm.client.enlist.XaDialect;
import dev.xatm.protocol.TmXid;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A database's XA side in memory, like PostgreSQL or a MariaDB whose preparing session ended: a
 * prepared branch outlives the connection that prepared it and any connection can finish it. Each
 * {@link XaDialect#xaResource} call is one "connection"; a failure injected into PREPARE or COMMIT
 * first does the work (or not), then kills that connection and throws, as a database that ends the
 * session right after it executed the statement. Records which connection finished each branch.
 */
final class StubResourceManager {
    /** What an injected failure does before it throws. */
    enum Then { EXECUTES, DOES_NOT_EXECUTE }

    private final Set<TmXid> active = ConcurrentHashMap.newKeySet();
    private final Set<TmXid> prepared = ConcurrentHashMap.newKeySet();
    private final Map<TmXid, Integer> preparedOn = new ConcurrentHashMap<>();
    private final Map<TmXid, Integer> finishedOn = new ConcurrentHashMap<>();
    private final List<String> finished = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile XAException prepareFailure;
    private volatile XAException commitFailure;
    private volatile Then then = Then.EXECUTES;
    /** Phase-2 calls by xid that fail with XAER_RMFAIL before one gets through (the database still unreachable). */
    final AtomicInteger refusePhaseTwo = new AtomicInteger();
    /**
     * Phase-2 calls that answer XAER_NOTA although the branch is still prepared, as MariaDB does while
     * the preparing session has not ended yet (the branch is bound to it).
     */
    final AtomicInteger stillBoundToItsSession = new AtomicInteger();
    /** The database's own answer to the next phase-2 call (commit in one or two phases, rollback); see {@link #decideNextOnItsOwn}. */
    private volatile XAException ownDecision;
    /** "forget xid", in order: what XAResource.forget was called for. */
    private final List<String> forgotten = new CopyOnWriteArrayList<>();

    /** The next PREPARE does its work (or not), then its connection dies and it throws {@code e}. */
    void failNextPrepare(XAException e, Then then) {
        this.then = then;
        this.prepareFailure = e;
    }

    /** The next two-phase COMMIT does its work (or not), then its connection dies and it throws {@code e}. */
    void failNextCommit(XAException e, Then then) {
        this.then = then;
        this.commitFailure = e;
    }

    /**
     * The database decides the next branch asked for phase 2 on its own (a heuristic, or an XA_RB* code):
     * the call throws {@code e} on a healthy connection and the branch is no longer prepared.
     */
    void decideNextOnItsOwn(XAException e) {
        this.ownDecision = e;
    }

    List<String> forgotten() {
        return List.copyOf(forgotten);
    }

    Set<TmXid> prepared() {
        return Set.copyOf(prepared);
    }

    Integer preparedOn(TmXid xid) {
        return preparedOn.get(xid);
    }

    Integer finishedOn(TmXid xid) {
        return finishedOn.get(xid);
    }

    /** "commit xid" / "rollback xid", in order. */
    List<String> finished() {
        return List.copyOf(finished);
    }

    /** A prepared branch of a process that is gone: nobody holds it. */
    void prepareOrphan(TmXid xid) {
        prepared.add(xid);
    }

    /** Another process finished a prepared branch. */
    void finishElsewhere(TmXid xid) {
        prepared.remove(xid);
    }

    XaDialect dialect() {
        return new XaDialect() {
            @Override
            public String name() {
                return "stub";
            }

            @Override
            public XAResource xaResource(Connection pooled) {
                return new Session(connections.incrementAndGet());
            }

            @Override
            public boolean preparedBranchBoundToSession() {
                return false;
            }

            @Override
            public void checkServer(Connection c, String resource) {
            }
        };
    }

    private final class Session implements XAResource {
        private final int id;
        private volatile boolean dead;

        Session(int id) {
            this.id = id;
        }

        private void alive() throws XAException {
            if (dead) {
                throw new XAException(XAException.XAER_RMFAIL);
            }
        }

        private TmXid x(Xid xid) {
            return TmXid.parse(xid).orElseThrow();
        }

        @Override
        public void start(Xid xid, int flags) throws XAException {
            alive();
            active.add(x(xid));
        }

        @Override
        public void end(Xid xid, int flags) throws XAException {
            alive();
        }

        @Override
        public int prepare(Xid xid) throws XAException {
            alive();
            XAException failure = prepareFailure;
            prepareFailure = null;
            if (failure == null || then == Then.EXECUTES) {
                active.remove(x(xid));
                prepared.add(x(xid));
                preparedOn.put(x(xid), id);
            }
            if (failure != null) {
                dead = true;
                throw failure;
            }
            return XA_OK;
        }

        @Override
        public void commit(Xid xid, boolean onePhase) throws XAException {
            alive();
            decidedOnItsOwn(xid);
            if (onePhase) {
                if (!active.remove(x(xid))) {
                    throw new XAException(XAException.XAER_NOTA);
                }
                return;
            }
            XAException failure = commitFailure;
            commitFailure = null;
            if (failure == null) {
                phaseTwo(xid, "commit");
                return;
            }
            if (then == Then.EXECUTES) {
                phaseTwo(xid, "commit");
            }
            dead = true;
            throw failure;
        }

        @Override
        public void rollback(Xid xid) throws XAException {
            alive();
            decidedOnItsOwn(xid);
            if (active.remove(x(xid))) {
                return;
            }
            phaseTwo(xid, "rollback");
        }

        private void decidedOnItsOwn(Xid xid) throws XAException {
            XAException e = ownDecision;
            if (e != null && (active.contains(x(xid)) || prepared.contains(x(xid)))) {
                ownDecision = null;
                active.remove(x(xid));
                prepared.remove(x(xid));
                throw e;
            }
        }

        private void phaseTwo(Xid xid, String what) throws XAException {
            if (refusePhaseTwo.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                dead = true;
                throw new XAException(XAException.XAER_RMFAIL);
            }
            if (prepared.contains(x(xid)) && stillBoundToItsSession.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new XAException(XAException.XAER_NOTA);
            }
            if (!prepared.remove(x(xid))) {
                throw new XAException(XAException.XAER_NOTA);
            }
            finishedOn.put(x(xid), id);
            finished.add(what + " " + x(xid));
        }

        @Override
        public Xid[] recover(int flag) throws XAException {
            alive();
            return prepared.toArray(new Xid[0]);
        }

        @Override
        public void forget(Xid xid) {
            forgotten.add("forget " + x(xid));
        }

        @Override
        public boolean isSameRM(XAResource other) {
            return false;
        }

        @Override
        public int getTransactionTimeout() {
            return 0;
        }

        @Override
        public boolean setTransactionTimeout(int seconds) {
            return false;
        }
    }
}
