package dev.xatm.client.enlist;

import org.h2.jdbc.JdbcConnection;
import org.h2.jdbcx.JdbcDataSourceFactory;
import org.h2.jdbcx.JdbcXAConnection;

import javax.transaction.xa.XAResource;
import java.lang.reflect.Constructor;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * H2, for development and tests. H2's only public way to an XAConnection is
 * {@code JdbcDataSource.getXAConnection()}, which opens a new physical connection outside the
 * application's pool; the branch must run on a pooled connection. So we call the
 * package-private {@code JdbcXAConnection(JdbcDataSourceFactory, int, JdbcConnection)} constructor
 * by reflection, the one place the starter needs it. H2 runs on the class path (unnamed module), so
 * {@code setAccessible} is allowed.
 */
final class H2Dialect implements XaDialect {
    private static final Constructor<JdbcXAConnection> CONSTRUCTOR;

    static {
        try {
            CONSTRUCTOR = JdbcXAConnection.class.getDeclaredConstructor(JdbcDataSourceFactory.class, int.class, JdbcConnection.class);
            CONSTRUCTOR.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("this H2 version has no JdbcXAConnection(JdbcDataSourceFactory, int, JdbcConnection): " + e);
        }
    }

    @Override
    public String name() {
        return "H2";
    }

    @Override
    public XAResource xaResource(Connection pooled) throws SQLException {
        try {
            return CONSTRUCTOR.newInstance(new JdbcDataSourceFactory(), 0, pooled.unwrap(JdbcConnection.class)).getXAResource();
        } catch (ReflectiveOperationException e) {
            throw new SQLException("cannot create H2's JdbcXAConnection: " + e, e);
        }
    }

    /** H2 keeps prepared transactions in the database, resolvable from any session ("COMMIT TRANSACTION"). */
    @Override
    public boolean preparedBranchBoundToSession() {
        return false;
    }

    @Override
    public void checkServer(Connection c, String resource) {
        // nothing to check: H2's PREPARE COMMIT needs no configuration
    }
}
