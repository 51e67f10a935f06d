package dev.xatm.client.enlist;

import org.mariadb.jdbc.MariaDbPoolConnection;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * MariaDB through mariadb-java-client 3.x. {@code MariaDbPoolConnection(Connection)} is the driver's
 * public XAConnection over an existing connection; its XAResource sends XA START/END/PREPARE/COMMIT
 * on it (only 1397-1402 are mapped, anything else is errorCode 0).
 *
 * <p>Driver quirk: the constructor registers itself with the connection
 * ({@code Connection.setPoolConnection}), after which {@code Connection.close()} only fires a
 * "closed" event and never closes the socket. The pool would then leak the physical connection when
 * it retires it, so we unregister at once; the XAResource does not need the registration.
 */
final class MariaDbDialect implements XaDialect {
    @Override
    public String name() {
        return "MariaDB";
    }

    @Override
    public XAResource xaResource(Connection pooled) throws SQLException {
        org.mariadb.jdbc.Connection physical = pooled.unwrap(org.mariadb.jdbc.Connection.class);
        MariaDbPoolConnection xa = new MariaDbPoolConnection(physical);
        physical.setPoolConnection(null);
        return xa.getXAResource();
    }

    /** Verified on 10.11: another session gets XAER_NOTA while the preparer lives. */
    /** Nothing to ask the server whether a branch wrote (see {@link XaDialect#readOnlyVoteNeedsOptIn}). */
    @Override
    public boolean readOnlyVoteNeedsOptIn() {
        return true;
    }

    @Override
    public boolean preparedBranchBoundToSession() {
        return true;
    }

    @Override
    public void checkServer(Connection c, String resource) throws SQLException {
        MySqlFamily.check(c, resource);
    }
}
