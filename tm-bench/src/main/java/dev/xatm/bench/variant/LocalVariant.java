package dev.xatm.bench.variant;

import com.zaxxer.hikari.HikariDataSource;
import dev.xatm.bench.Db;
import dev.xatm.bench.Workload;
import dev.xatm.bench.Workload.Order;

import java.sql.Connection;

/**
 * (a) Two plain local transactions, committed one after the other: no atomicity across the
 * shards, no XA, no log. The upper bound every other variant is measured against.
 */
public final class LocalVariant implements Variant {
    private final HikariDataSource pg;
    private final HikariDataSource maria;

    public LocalVariant(Db pgDb, Db mariaDb, int threads) {
        this.pg = pgDb.pool("local-pg", threads, false);
        this.maria = mariaDb.pool("local-maria", threads, false);
    }

    @Override
    public void execute(Order order) throws Exception {
        try (Connection p = pg.getConnection(); Connection m = maria.getConnection()) {
            try {
                Workload.place(p, m, order);
                p.commit();
                m.commit();
            } catch (Exception e) {
                p.rollback();
                m.rollback();
                throw e;
            }
        }
    }

    @Override
    public String xidMarker() {
        return "bench-local"; // no XA: nothing can be left prepared
    }

    @Override
    public void close() {
        pg.close();
        maria.close();
    }
}
