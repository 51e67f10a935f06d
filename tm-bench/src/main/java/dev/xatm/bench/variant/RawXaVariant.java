package dev.xatm.bench.variant;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.bench.Db;
import dev.xatm.bench.Workload;
import dev.xatm.bench.Workload.Order;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicLong;

/**
 * (b) Two-phase commit driven directly through the drivers' XAResources, in the calling thread,
 * with no log and no coordinator: START, work, END, PREPARE both, COMMIT both. Not recoverable
 * after a crash, so not a product; it is the ceiling any XA transaction manager can reach here.
 */
public final class RawXaVariant implements Variant {
    private static final String MARKER = "bench-rawxa";
    private final HikariDataSource pg;
    private final HikariDataSource maria;
    private final AtomicLong ids = new AtomicLong();

    public RawXaVariant(Db pgDb, Db mariaDb, int threads) {
        this.pg = pgDb.pool("rawxa-pg", threads, true);
        this.maria = mariaDb.pool("rawxa-maria", threads, true);
    }

    @Override
    public void execute(Order order) throws Exception {
        try (Connection p = pg.getConnection(); Connection m = maria.getConnection()) {
            XAResource xp = XaWrap.postgres(p);
            XAResource xm = XaWrap.mariadb(m);
            String gtrid = MARKER + "-" + ids.incrementAndGet();
            Xid a = XaWrap.SimpleXid.of(gtrid, "pg");
            Xid b = XaWrap.SimpleXid.of(gtrid, "maria");
            boolean startedA = false;
            boolean startedB = false;
            try {
                xp.start(a, XAResource.TMNOFLAGS);
                startedA = true;
                xm.start(b, XAResource.TMNOFLAGS);
                startedB = true;
                Workload.place(p, m, order);
                xp.end(a, XAResource.TMSUCCESS);
                startedA = false;
                xm.end(b, XAResource.TMSUCCESS);
                startedB = false;
                xp.prepare(a);
                xm.prepare(b);
            } catch (Exception e) {
                rollback(xp, a, startedA);
                rollback(xm, b, startedB);
                throw e;
            }
            xp.commit(a, false);
            xm.commit(b, false);
        }
    }

    private static void rollback(XAResource xa, Xid xid, boolean started) {
        try {
            if (started) {
                xa.end(xid, XAResource.TMFAIL);
            }
            xa.rollback(xid);
        } catch (XAException ignored) {
            // XAER_NOTA: never started or already gone; anything else shows up in the consistency check
        }
    }

    @Override
    public String xidMarker() {
        return MARKER;
    }

    @Override
    public void close() {
        pg.close();
        maria.close();
    }
}
