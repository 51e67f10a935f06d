package dev.xatm.client.enlist;

import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.BranchRefusedException;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Turns "a connection of this data source, inside this global transaction" into a branch: the first
 * time per (global transaction, data source) it borrows one pooled connection, registers the branch
 * with the coordinator and runs XA START on it; every later time it hands out the same branch
 *. The branch is registered before XA START, so the coordinator knows every branch that
 * could do work (an unregistered branch would be invisible to its rollback). The exception is a scope
 * that does not register ({@link TxScope#registersBranches()}: an initiator whose gtrid has not left the
 * process): its branches ride on its own commit request, and the coordinator has nothing to roll back
 * for them before that.
 *
 * <p>The coordinator only accepts a branch whose agent has an open stream (else nobody could tell it
 * to commit or roll back). So registration first waits for this instance's agent to be welcomed by
 * the server that owns the gtrid (with several servers, the one its gtrid names), and
 * a refusal while the transaction is still active (the agent's stream dropped, or the coordinator had
 * not yet seen the stream it just welcomed) is retried; all of it within tm.client.call-timeout-ms.
 * Thread-safe.
 */
public final class Enlistment {
    private static final Logger log = LoggerFactory.getLogger(Enlistment.class);

    private final CoordinatorAccess coordinator;
    private final String agentId;
    private final BqualMinter bquals;
    private final BranchTable table;
    private final AgentGate agent;
    private final long callTimeoutMillis;
    private final boolean readOnlyVotes;
    private final boolean readOnlyVotesOnMySql;

    /** How enlistment waits for this instance's agent; implemented by the agent. */
    @FunctionalInterface
    public interface AgentGate {
        /** An agent that is always connected (tests with a fake coordinator). */
        AgentGate OPEN = (gtrid, timeoutMillis) -> true;

        /**
         * Waits at most {@code timeoutMillis} for the agent's stream to the server that owns
         * {@code gtrid} (the one that will send its commands); true once it is open.
         */
        boolean awaitConnected(String gtrid, long timeoutMillis) throws InterruptedException;
    }

    public Enlistment(CoordinatorAccess coordinator, String agentId, BqualMinter bquals, BranchTable table) {
        this(coordinator, agentId, bquals, table, AgentGate.OPEN, 5_000, true);
    }

    public Enlistment(CoordinatorAccess coordinator, String agentId, BqualMinter bquals, BranchTable table, AgentGate agent,
                      long callTimeoutMillis, boolean readOnlyVotes) {
        this(coordinator, agentId, bquals, table, agent, callTimeoutMillis, readOnlyVotes, false);
    }

    /**
     * {@code readOnlyVotesOnMySql}: whether branches on databases whose READ_ONLY vote rests on the
     * statement text alone (MySQL, MariaDB: {@link XaDialect#readOnlyVoteNeedsOptIn}) may vote it too.
     */
    public Enlistment(CoordinatorAccess coordinator, String agentId, BqualMinter bquals, BranchTable table, AgentGate agent,
                      long callTimeoutMillis, boolean readOnlyVotes, boolean readOnlyVotesOnMySql) {
        this.readOnlyVotesOnMySql = readOnlyVotesOnMySql;
        this.coordinator = coordinator;
        this.agentId = agentId;
        this.bquals = bquals;
        this.table = table;
        this.agent = agent;
        this.callTimeoutMillis = callTimeoutMillis;
        this.readOnlyVotes = readOnlyVotes;
    }

    public BranchTable table() {
        return table;
    }

    /** A connection running in {@code scope}'s branch on {@code resource}. */
    Connection connection(TxScope scope, EnlistedResource resource) throws SQLException {
        XaDialect dialect = resource.requireDialect();
        if (scope.pastDeadline()) {
            throw timedOut(scope);
        }
        BranchHold hold = (BranchHold) scope.held(resource.resourceId());
        if (hold == null) {
            Branch b = table.live(scope.gtrid(), resource.resourceId());
            if (b == null) {
                b = start(scope.gtrid(), resource, dialect, scope.registersBranches());
            }
            b.hold();
            hold = new BranchHold(b);
            scope.hold(resource.resourceId(), hold);
        }
        hold.branch.checkUsable();
        return BranchConnection.create(hold.branch, scope, hold.branch.connection());
    }

    static GlobalTimeoutException timedOut(TxScope scope) {
        return new GlobalTimeoutException("Global transaction " + scope.gtrid()
                + " passed its deadline; it is rolled back and takes no more database work");
    }

    private Branch start(String gtrid, EnlistedResource resource, XaDialect dialect, boolean registered) throws SQLException {
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(callTimeoutMillis);
        // Before borrowing: waiting holds no pooled connection. Also for a branch that rides on the commit
        // request: the coordinator's phase-2 resends reach it only through the agent.
        awaitAgent(gtrid, deadlineNanos);
        Connection c = resource.borrow();
        TmXid xid;
        XAResource xa;
        boolean autoCommit;
        try {
            autoCommit = c.getAutoCommit();
            xa = dialect.xaResource(c);
            xid = new TmXid(gtrid, bquals.next(resource.databaseTag(c)));
            if (registered) {
                register(xid, resource, deadlineNanos);
            }
        } catch (SQLException | RuntimeException e) {
            resource.giveBack(c);
            throw e;
        }
        try {
            xa.start(xid, XAResource.TMNOFLAGS);
        } catch (XAException e) {
            // registered but never started: at PREPARE the agent does not know it and votes NO
            resource.discard(c);
            throw new TmSystemException("XA START failed on data source '" + resource.beanName() + "' for " + xid + ": "
                    + XaErrorClassifier.describe(e), e);
        }
        boolean readOnlyVote = readOnlyVotes && (readOnlyVotesOnMySql || !resource.dialect().readOnlyVoteNeedsOptIn());
        Branch b = new Branch(xid, resource, c, xa, autoCommit, readOnlyVote);
        if (registered) {
            b.registered();
        }
        Branch winner = table.addIfAbsent(b);
        if (winner != null) {
            // another thread of the same global transaction enlisted this resource first: keep one branch
            b.execute(BranchCommand.ROLLBACK);
            return winner;
        }
        log.debug("Enlisted {} in {}", resource, xid);
        return b;
    }

    /**
     * The branches {@code scope} holds now, in the order they joined (call before the scope ends).
     * For a scope that does not register its branches: they ride on its commit request.
     */
    public List<Branch> heldBranches(TxScope scope) {
        List<Branch> out = new ArrayList<>();
        for (TxScope.Held h : scope.heldNow()) {
            if (h instanceof BranchHold hold) {
                out.add(hold.branch);
            }
        }
        return out;
    }

    /** Registers the branches {@code scope} holds so far with the coordinator (its gtrid is about to leave the process). */
    public void registerHeld(TxScope scope) {
        register(heldBranches(scope));
    }

    /** Registers {@code branches} (this agent's) with the coordinator: a commit that turns coordinator-driven late. */
    public void register(List<Branch> branches) {
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(callTimeoutMillis);
        for (Branch b : branches) {
            register(b.xid(), b.resource(), deadlineNanos);
            b.registered();
        }
    }

    private void register(TmXid xid, EnlistedResource resource, long deadlineNanos) {
        long pauseMillis = 5;
        while (true) {
            try {
                coordinator.registerBranch(xid.gtrid(), xid.bqual(), resource.resourceId(), agentId);
                return;
            } catch (BranchRefusedException e) {
                // Not active any more (then the status says so, and that is final), or our agent's
                // stream is not (yet) known to the coordinator: it welcomes a stream just before it
                // records it, and a stream may drop and come back. Only the second is worth a retry.
                if (System.nanoTime() - deadlineNanos >= 0 || !coordinator.status(xid.gtrid()).isActive()) {
                    throw e;
                }
                log.debug("RegisterBranch of {} refused while the transaction is active ({}); retrying", xid, e.getMessage());
            }
            awaitAgent(xid.gtrid(), deadlineNanos);
            pause(Math.min(pauseMillis, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()))));
            pauseMillis = Math.min(pauseMillis * 2, 100);
        }
    }

    private void awaitAgent(String gtrid, long deadlineNanos) {
        long leftMillis = Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
        boolean connected;
        try {
            connected = agent.awaitConnected(gtrid, leftMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TmSystemException("Interrupted while waiting for agent " + agentId + " to connect to " + coordinator.describe()
                    + " (global transaction " + gtrid + ")", e);
        }
        if (!connected) {
            throw new TmSystemException("Agent " + agentId + " has no open stream to the tm-server that owns " + gtrid + " ("
                    + coordinator.describe() + ") after " + callTimeoutMillis + " ms (tm.client.call-timeout-ms), so no branch of global transaction " + gtrid
                    + " can join: the coordinator only accepts branches it can send commit or rollback to. "
                    + "See the tmClient health indicator or the agent's log for why it is not connected.");
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TmSystemException("Interrupted while retrying a branch registration", e);
        }
    }

    /** What a scope holds for one resource: released when the scope ends. */
    private final class BranchHold implements TxScope.Held {
        final Branch branch;

        BranchHold(Branch branch) {
            this.branch = branch;
        }

        @Override
        public void release(boolean doomed) {
            BranchCommand parked = branch.release(doomed, "the business code of this global transaction failed");
            if (parked != null) {
                table.runParked(branch, parked);
            }
        }
    }
}
