package dev.xatm.client.enlist;

import dev.xatm.client.GlobalTimeoutException;
import dev.xatm.client.TmSystemException;
import dev.xatm.client.context.TxScope;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.protocol.TmXid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Turns "a connection of this data source, inside this global transaction" into a branch: the first
 * time per (global transaction, data source) it borrows one pooled connection, registers the branch
 * with the coordinator and runs XA START on it; every later time it hands out the same branch
 * (SPEC §9). The branch is registered before XA START, so the coordinator knows every branch that
 * could do work (an unregistered branch would be invisible to its rollback). Thread-safe.
 */
public final class Enlistment {
    private static final Logger log = LoggerFactory.getLogger(Enlistment.class);

    private final CoordinatorAccess coordinator;
    private final String agentId;
    private final BqualMinter bquals;
    private final BranchTable table;

    public Enlistment(CoordinatorAccess coordinator, String agentId, BqualMinter bquals, BranchTable table) {
        this.coordinator = coordinator;
        this.agentId = agentId;
        this.bquals = bquals;
        this.table = table;
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
                b = start(scope.gtrid(), resource, dialect);
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

    private Branch start(String gtrid, EnlistedResource resource, XaDialect dialect) throws SQLException {
        Connection c = resource.borrow();
        TmXid xid;
        XAResource xa;
        boolean autoCommit;
        try {
            autoCommit = c.getAutoCommit();
            xa = dialect.xaResource(c);
            xid = new TmXid(gtrid, bquals.next());
            coordinator.registerBranch(gtrid, xid.bqual(), resource.resourceId(), agentId);
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
        Branch b = new Branch(xid, resource, c, xa, autoCommit);
        Branch winner = table.addIfAbsent(b);
        if (winner != null) {
            // another thread of the same global transaction enlisted this resource first: keep one branch
            b.execute(Branch.Command.ROLLBACK);
            return winner;
        }
        log.debug("Enlisted {} in {}", resource, xid);
        return b;
    }

    /** What a scope holds for one resource: released when the scope ends. */
    private final class BranchHold implements TxScope.Held {
        final Branch branch;

        BranchHold(Branch branch) {
            this.branch = branch;
        }

        @Override
        public void release(boolean doomed) {
            Branch.Command parked = branch.release(doomed, "the business code of this global transaction failed");
            if (parked != null) {
                table.runParked(branch, parked);
            }
        }
    }
}
