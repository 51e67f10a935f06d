package dev.xatm.client.enlist;

import dev.xatm.client.context.TxScope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;

/**
 * What business code gets from an enlisted data source inside a global transaction: a handle on the
 * branch's pooled connection that keeps the transaction's boundaries out of the business code's
 * hands.
 *
 * <ul>
 *   <li>{@code commit()} does nothing: the coordinator commits (SPEC §3);</li>
 *   <li>{@code rollback()} dooms the global transaction: the branch votes NO, the initiator rolls
 *       back (a single branch cannot be partly rolled back);</li>
 *   <li>{@code close()} closes this handle only; the connection stays with the branch until the
 *       global transaction ends;</li>
 *   <li>auto-commit reads as false and cannot be changed, and read-only / isolation changes are
 *       ignored: inside an XA branch the transaction already runs (pgjdbc refuses them mid-transaction);</li>
 *   <li>a statement after the deadline, or after the coordinator rolled the transaction back, fails.</li>
 * </ul>
 *
 * A JDK proxy, so every other Connection method passes through unchanged. Not thread-safe, like any
 * JDBC connection.
 */
final class BranchConnection implements InvocationHandler {
    private static final Logger log = LoggerFactory.getLogger(BranchConnection.class);
    private static final Set<String> STATEMENT_FACTORIES = Set.of("createStatement", "prepareStatement", "prepareCall", "nativeSQL");

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
            default:
                if (STATEMENT_FACTORIES.contains(name)) {
                    if (scope.pastDeadline()) {
                        throw Enlistment.timedOut(scope);
                    }
                    branch.checkUsable();
                }
                break;
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
