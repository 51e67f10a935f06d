package dev.xatm.bench.variant;

import com.arjuna.ats.arjuna.common.CoordinatorEnvironmentBean;
import com.arjuna.ats.arjuna.common.CoreEnvironmentBean;
import com.arjuna.ats.arjuna.common.ObjectStoreEnvironmentBean;
import com.arjuna.common.internal.util.propertyservice.BeanPopulator;
import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.bench.Db;
import dev.xatm.bench.Workload;
import dev.xatm.bench.Workload.Order;
import jakarta.transaction.Status;
import jakarta.transaction.Transaction;
import jakarta.transaction.TransactionManager;

import java.nio.file.Path;
import java.sql.Connection;

/**
 * (c) Narayana 7 (ArjunaJTA, local JTA) with its default file object store (ShadowNoFileLockStore,
 * transactionSync on: the commit record is forced to disk before phase 2) in a directory of this
 * run. narayana-jta has no connection pool of its own; the XAResources of connections borrowed from
 * HikariCP are enlisted with {@code Transaction.enlistResource}, which is what pools integrated with
 * Narayana (e.g. Agroal) do. Narayana then runs START/END/PREPARE/COMMIT on them.
 *
 * <p>Narayana's configuration beans are JVM singletons, read once: one variant instance per JVM
 * (each benchmark cell is its own JVM).
 */
public final class NarayanaVariant implements Variant {
    /** Narayana writes the node identifier into every Xid's gtrid: it is the marker. */
    private static final String NODE = "bench-narayana";
    private final HikariDataSource pg;
    private final HikariDataSource maria;
    private final TransactionManager tm;

    public NarayanaVariant(Db pgDb, Db mariaDb, int threads, Path storeDir) throws Exception {
        BeanPopulator.getDefaultInstance(CoreEnvironmentBean.class).setNodeIdentifier(NODE);
        // All three named stores (default, communication, state) in this run's directory.
        for (String store : new String[] {null, "communicationStore", "stateStore"}) {
            ObjectStoreEnvironmentBean b = store == null
                    ? BeanPopulator.getDefaultInstance(ObjectStoreEnvironmentBean.class)
                    : BeanPopulator.getNamedInstance(ObjectStoreEnvironmentBean.class, store);
            b.setObjectStoreDir(storeDir.toString());
        }
        CoordinatorEnvironmentBean coordinator = BeanPopulator.getDefaultInstance(CoordinatorEnvironmentBean.class);
        coordinator.setDefaultTimeout(60); // seconds; as ours (tm.client.default-timeout-ms=60000)
        this.tm = com.arjuna.ats.jta.TransactionManager.transactionManager();
        this.pg = pgDb.pool("narayana-pg", threads, true);
        this.maria = mariaDb.pool("narayana-maria", threads, true);
    }

    @Override
    public void execute(Order order) throws Exception {
        tm.begin();
        // Both phases run while the connections are still borrowed (MariaDB wants phase 2 on the
        // session that prepared), so they go back to the pool only after commit or rollback.
        Connection p = null;
        Connection m = null;
        try {
            p = pg.getConnection();
            m = maria.getConnection();
            Transaction tx = tm.getTransaction();
            if (!tx.enlistResource(XaWrap.postgres(p)) || !tx.enlistResource(XaWrap.mariadb(m))) {
                throw new IllegalStateException("Narayana refused to enlist a resource");
            }
            Workload.place(p, m, order);
            tm.commit();
        } catch (Exception e) {
            // After a failed commit the thread is no longer associated: nothing left to roll back.
            if (tm.getStatus() != Status.STATUS_NO_TRANSACTION) {
                tm.rollback();
            }
            throw e;
        } finally {
            closeQuietly(m);
            closeQuietly(p);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the pool evicts a broken connection by itself
            }
        }
    }

    @Override
    public String xidMarker() {
        return NODE;
    }

    @Override
    public void close() {
        pg.close();
        maria.close();
    }
}
