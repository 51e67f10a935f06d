package dev.xatm.bench.variant;

import com.atomikos.icatch.jta.UserTransactionManager;
import com.atomikos.jdbc.AtomikosDataSourceBean;
import dev.xatm.bench.Db;
import dev.xatm.bench.Workload;
import dev.xatm.bench.Workload.Order;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.Properties;

/**
 * (d) Atomikos TransactionsEssentials 6 (jakarta build) as documented: an
 * {@link UserTransactionManager} and one {@link AtomikosDataSourceBean} per database (Atomikos' own
 * XA-aware pool over the drivers' XADataSource classes, enlisting a connection in the thread's
 * transaction when it is borrowed), with its file log in a directory of this run.
 *
 * <p>Atomikos reads its settings (defaults, jta.properties, then system properties, which win)
 * once per JVM at init: one variant instance per JVM (each benchmark cell is its own JVM).
 */
public final class AtomikosVariant implements Variant {
    /** Atomikos puts tm_unique_name at the start of every gtrid: it is the marker. */
    private static final String TM_NAME = "bench-atomikos";
    private final UserTransactionManager tm;
    private final AtomikosDataSourceBean pg;
    private final AtomikosDataSourceBean maria;

    public AtomikosVariant(Db pgDb, Db mariaDb, int threads, Path logDir) throws Exception {
        System.setProperty("com.atomikos.icatch.log_base_dir", logDir.toString());
        System.setProperty("com.atomikos.icatch.tm_unique_name", TM_NAME);
        // Default 50 would refuse begin() at 64 client threads; -1 = no limit.
        System.setProperty("com.atomikos.icatch.max_actives", "-1");
        System.setProperty("com.atomikos.icatch.default_jta_timeout", "60000"); // as ours
        tm = new UserTransactionManager();
        tm.setForceShutdown(true);
        tm.init();
        pg = dataSource("bench-atomikos-pg", "org.postgresql.xa.PGXADataSource", pgDb, threads);
        maria = dataSource("bench-atomikos-maria", "org.mariadb.jdbc.MariaDbDataSource", mariaDb, threads);
    }

    private static AtomikosDataSourceBean dataSource(String name, String xaClass, Db db, int threads) throws Exception {
        AtomikosDataSourceBean ds = new AtomikosDataSourceBean();
        ds.setUniqueResourceName(name);
        ds.setXaDataSourceClassName(xaClass);
        Properties p = new Properties();
        p.setProperty("url", db.url());
        p.setProperty("user", db.user());
        p.setProperty("password", db.password());
        ds.setXaProperties(p);
        // Same sizing as the HikariCP pools of the other variants: one connection per client thread.
        ds.setMinPoolSize(threads);
        ds.setMaxPoolSize(threads);
        ds.setBorrowConnectionTimeout(30);
        ds.init();
        return ds;
    }

    @Override
    public void execute(Order order) throws Exception {
        tm.begin();
        try {
            // Borrowed inside the transaction: Atomikos enlists each connection (XA START) here and
            // delists it at close(); phase 2 runs at commit on the same physical connections.
            try (Connection p = pg.getConnection(); Connection m = maria.getConnection()) {
                Workload.place(p, m, order);
            }
        } catch (Exception e) {
            tm.rollback();
            throw e;
        }
        tm.commit();
    }

    @Override
    public String xidMarker() {
        return TM_NAME;
    }

    @Override
    public void close() {
        pg.close();
        maria.close();
        tm.close();
    }
}
