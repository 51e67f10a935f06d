package dev.xatm.client.enlist;

import dev.xatm.client.TmUsageException;
import dev.xatm.client.context.GlobalTxContext;
import dev.xatm.client.context.TxScope;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;

/**
 * The application's DataSource bean, wrapped. Outside a global transaction every call goes straight
 * to the pool (the wrapper costs one ThreadLocal read). Inside one, connections run in the branch
 * of this data source (see {@link Enlistment}). Thread-safe.
 */
public final class EnlistingDataSource implements DataSource {
    private final EnlistedResource resource;
    private final Enlistment enlistment;

    public EnlistingDataSource(EnlistedResource resource, Enlistment enlistment) {
        this.resource = resource;
        this.enlistment = enlistment;
    }

    public EnlistedResource resource() {
        return resource;
    }

    @Override
    public Connection getConnection() throws SQLException {
        TxScope scope = GlobalTxContext.current();
        if (scope == null) {
            return resource.pool().getConnection();
        }
        return enlistment.connection(scope, resource);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        if (GlobalTxContext.current() == null) {
            return resource.pool().getConnection(username, password);
        }
        throw new TmUsageException("getConnection(user, password) on data source '" + resource.beanName()
                + "' inside a global transaction: a branch runs on the pool's own credentials; use getConnection()");
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return (T) this;
        }
        return resource.pool().unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || resource.pool().isWrapperFor(iface);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return resource.pool().getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        resource.pool().setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        resource.pool().setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return resource.pool().getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return resource.pool().getParentLogger();
    }

    @Override
    public String toString() {
        return "EnlistingDataSource[" + resource + "]";
    }
}
