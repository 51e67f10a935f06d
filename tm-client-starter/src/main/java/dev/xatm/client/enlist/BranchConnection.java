package dev.xatm.client.enlist;

import dev.xatm.client.context.TxScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * What business code gets from an enlisted data source inside a global transaction: a handle on the
 * branch's pooled connection that keeps the transaction's boundaries out of the business code's
 * hands.
 *
 * <ul>
 *   <li>{@code commit()} does nothing: the coordinator commits;</li>
 *   <li>{@code rollback()} dooms the global transaction: the branch votes NO, the initiator rolls
 *       back (a single branch cannot be partly rolled back);</li>
 *   <li>{@code close()} closes this handle only; the connection stays with the branch until the
 *       global transaction ends;</li>
 *   <li>auto-commit reads as false and cannot be changed, and read-only / isolation changes are
 *       ignored: inside an XA branch the transaction already runs (pgjdbc refuses them mid-transaction);</li>
 *   <li>a statement after the deadline, or after the coordinator rolled the transaction back, fails;</li>
 *   <li>whatever could write marks the branch dirty, before it runs (HikariCP's ProxyConnection keeps
 *       its commit-state dirty bit the same way): an update, a batch, a call, a statement whose text
 *       is not a plain query ({@link SqlText}), any statement of an updatable result set, and any way
 *       out of our tracking ({@code unwrap} to the driver's connection or statement,
 *       {@code getMetaData}, whose {@code getConnection()} is the raw connection). A branch never
 *       marked dirty votes READ_ONLY at prepare time.</li>
 * </ul>
 *
 * A JDK proxy, so every other Connection method passes through unchanged; statements are proxied
 * too, so {@code getConnection()} on them returns this handle. Not thread-safe, like any JDBC
 * connection. Not tracked: a write through {@code ResultSet.getStatement()}, which hands out the
 * driver's statement (PostgreSQL's own check at prepare time covers it there).
 */
final class BranchConnection implements InvocationHandler {
    private static final Logger log = LoggerFactory.getLogger(BranchConnection.class);
    private static final Set<String> STATEMENT_FACTORIES = Set.of("createStatement", "prepareStatement", "prepareCall", "nativeSQL");
    private static final Set<String> ALWAYS_WRITE = Set.of("executeUpdate", "executeLargeUpdate", "executeBatch", "executeLargeBatch");

    private final Branch branch;
    private final TxScope scope;
    private final Connection target;
    private boolean closed;

    private BranchConnection(Branch branch, TxScope scope, Connection target) {
        this.branch = branch;
        this.scope = scope;
        this.target = target;
    }

    static Connection create(Branch branch, TxScope scope, Connection target) {
        return (Connection) Proxy.newProxyInstance(BranchConnection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new BranchConnection(branch, scope, target));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "BranchConnection[" + branch + (closed ? ", closed" : "") + "]";
            case "close":
                closed = true;
                return null;
            case "isClosed":
                return closed || target.isClosed();
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                branch.markDirty(); // the caller gets the driver's connection: we no longer see what it runs
                break;
            case "isWrapperFor":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return true;
                }
                break;
            default:
                break;
        }
        if (closed) {
            throw new SQLException("Connection is closed");
        }
        switch (name) {
            case "commit":
                return null; // the coordinator commits
            case "rollback":
                if (args == null || args.length == 0) {
                    String why = "a local rollback() ran on the branch connection of data source '" + branch.resource().beanName() + "'";
                    branch.doom(why);
                    scope.setRollbackOnly(why);
                    return null;
                }
                break; // rollback(Savepoint) is fine inside a branch
            case "getAutoCommit":
                return false;
            case "setAutoCommit", "setReadOnly", "setTransactionIsolation":
                log.trace("{}({}) ignored inside XA branch {}", name, args[0], branch);
                return null;
            case "getMetaData":
                branch.markDirty(); // DatabaseMetaData.getConnection() is the raw connection
                break;
            default:
                if (STATEMENT_FACTORIES.contains(name)) {
                    if (scope.pastDeadline()) {
                        throw Enlistment.timedOut(scope);
                    }
                    branch.checkUsable();
                }
                break;
        }
        Object result = call(target, method, args);
        if (result instanceof Statement statement && !name.equals("nativeSQL")) {
            return track(proxy, method, args, statement);
        }
        return result;
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Wraps a statement made by createStatement / prepareStatement / prepareCall. */
    private Object track(Object connectionProxy, Method factory, Object[] args, Statement statement) {
        String name = factory.getName();
        boolean prepared = !name.equals("createStatement");
        String sql = prepared ? (String) args[0] : null;
        // createStatement(type, concurrency[, holdability]); prepare*(sql, type, concurrency[, holdability])
        int concurrencyArg = prepared ? 2 : 1;
        Class<?>[] types = factory.getParameterTypes();
        boolean updatable = types.length > concurrencyArg && types[concurrencyArg] == int.class
                && (!prepared || types[1] == int.class)
                && (Integer) args[concurrencyArg] == ResultSet.CONCUR_UPDATABLE;
        TrackedStatement handler = new TrackedStatement(connectionProxy, statement, sql, name.equals("prepareCall"), updatable);
        return Proxy.newProxyInstance(BranchConnection.class.getClassLoader(), new Class<?>[] {factory.getReturnType()}, handler);
    }

    /**
     * A statement of the branch: marks the branch dirty before anything that may write runs, and
     * answers {@code getConnection()} with the branch handle instead of the driver's connection.
     */
    private final class TrackedStatement implements InvocationHandler {
        private final Object connectionProxy;
        private final Statement target;
        private final String preparedSql;
        private final boolean callable;
        private final boolean updatable;

        TrackedStatement(Object connectionProxy, Statement target, String preparedSql, boolean callable, boolean updatable) {
            this.connectionProxy = connectionProxy;
            this.target = target;
            this.preparedSql = preparedSql;
            this.callable = callable;
            this.updatable = updatable;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "getConnection":
                    return connectionProxy;
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                    branch.markDirty();
                    break;
                case "isWrapperFor":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return true;
                    }
                    break;
                default:
                    if (name.startsWith("execute") && mayWrite(name, args)) {
                        branch.markDirty();
                    }
                    break;
            }
            return call(target, method, args);
        }

        private boolean mayWrite(String name, Object[] args) {
            if (ALWAYS_WRITE.contains(name) || callable || updatable) {
                return true;
            }
            // executeQuery / execute, with the text given now (Statement) or at prepare time
            String sql = args != null && args.length > 0 && args[0] instanceof String s ? s : preparedSql;
            return !SqlText.onlyReads(sql);
        }
    }
}
