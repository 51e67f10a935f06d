package dev.xatm.client.enlist;

import dev.xatm.client.GlobalTransactionDefinition;
import dev.xatm.client.TmUsageException;
import dev.xatm.client.support.BeginGuard;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import javax.sql.DataSource;
import java.util.List;
import java.util.function.Supplier;

/**
 * Refuses to begin a global transaction while a Spring-managed transaction on the same thread
 * already holds a connection of an enlisted data source.
 *
 * <p>Why: enlistment happens in {@link EnlistingDataSource#getConnection()}, which spring-jdbc and
 * JPA call only when the thread has no connection of that data source bound yet. A
 * {@code DataSourceTransactionManager} or {@code JpaTransactionManager} transaction begun
 * <em>before</em> the global one has bound a plain pool connection (under the data source as its key
 * in {@link TransactionSynchronizationManager}); everything the global transaction's code does on
 * that data source then runs on that connection, in the local transaction, which commits or rolls
 * back on its own when its method returns. Nothing fails; the database just silently stays out of
 * the global transaction, and atomicity is lost.
 *
 * <p>Why not enlist that connection instead: the local transaction may already have written on it,
 * and those writes belong to it, not to a branch. MySQL and MariaDB keep XA and local transactions
 * mutually exclusive on a session ({@code XA START} inside one fails with XAER_OUTSIDE); where a
 * database would accept it, the earlier local writes would end up inside the branch, decided by a
 * transaction they were never part of. And the local transaction manager would still commit or roll
 * the connection back itself when its method returns, possibly in the middle of our PREPARE. So the
 * only safe answer is a clear error before anything begins.
 *
 * <p>Only bindings whose key leads to an enlisted data source (the starter's wrapper, the pool it
 * wraps, or either behind spring-jdbc's {@link DelegatingDataSource} proxies) count; an
 * EntityManager bound without a transaction (open-session-in-view) binds no data source and is not
 * refused. Thread-safe: it reads only the calling thread's bindings.
 */
public final class LocalTransactionGuard implements BeginGuard {
    /** Bounds the walk through proxies of proxies; no real configuration comes near it. */
    private static final int MAX_PROXY_DEPTH = 10;

    private final Supplier<List<EnlistedResource>> enlisted;

    public LocalTransactionGuard(Supplier<List<EnlistedResource>> enlisted) {
        this.enlisted = enlisted;
    }

    @Override
    public void checkBeforeBegin(GlobalTransactionDefinition definition) {
        for (Object key : TransactionSynchronizationManager.getResourceMap().keySet()) {
            EnlistedResource held = enlistedBehind(key);
            if (held != null && held.supported()) {
                throw new TmUsageException("Global transaction '" + definition.name() + "' cannot begin: a Spring-managed local "
                        + "transaction begun before it on this thread already holds a connection of DataSource '" + held.beanName()
                        + "' (" + held.resourceId() + "), so that database would silently stay out of the global transaction "
                        + "(its writes would commit or roll back on their own). Put @Transactional inside @GlobalTransactional "
                        + "(the @GlobalTransactional method calls the @Transactional one, or carries both annotations), not around "
                        + "it; or end the local transaction before the global one begins.");
            }
        }
    }

    /** The enlisted resource a bound key stands for, or null. */
    private EnlistedResource enlistedBehind(Object key) {
        Object current = key;
        for (int depth = 0; depth < MAX_PROXY_DEPTH && current instanceof DataSource ds; depth++) {
            if (ds instanceof EnlistingDataSource wrapper) {
                return wrapper.resource();
            }
            for (EnlistedResource r : enlisted.get()) {
                if (r.pool() == ds) {
                    return r;
                }
            }
            if (!(ds instanceof DelegatingDataSource proxy)) {
                return null;
            }
            current = proxy.getTargetDataSource();
        }
        return null;
    }
}
