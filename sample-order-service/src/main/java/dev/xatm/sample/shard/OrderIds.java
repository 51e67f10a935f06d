package dev.xatm.sample.shard;

import dev.xatm.client.GlobalTransactionTemplate;
import org.springframework.dao.DataAccessResourceFailureException;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Order ids, unique across both shards: {@code id = 2 * n + shard}. The lowest bit names the shard,
 * so ids of different shards never collide and {@code GET /orders/{id}} finds the shard from the id
 * alone. {@code n} is unique within a shard: it comes from the shard's {@code order_id_block}
 * counter, taken {@link #BLOCK} at a time (hi/lo) in a short local transaction whose row lock
 * serialises every instance of the service. An instance that stops forgets the rest of its block:
 * ids have gaps, never duplicates.
 *
 * <p>Why not a UUID folded into a long: it cannot route a GET, and 63 random bits can still
 * collide. Why not a database sequence: MySQL has none. Why not the order table's auto-increment:
 * the id is needed before the insert, and a counter updated inside the global transaction would
 * hold its lock until phase 2, serialising all orders of a shard.
 *
 * <p>Must be called outside a global transaction: inside one, the shard's DataSource hands out the
 * XA branch, whose commit() does nothing, so the counter would stay locked until phase 2.
 * Thread-safe.
 */
public final class OrderIds {
    static final int BLOCK = 1000;

    private final Shards shards;
    private final long[] next = new long[Shards.COUNT];
    private final long[] end = new long[Shards.COUNT];

    OrderIds(Shards shards) {
        this.shards = shards;
    }

    /** A fresh order id on the shard of {@code userId}. */
    public long nextFor(long userId) {
        return next(shards.forUser(userId));
    }

    long next(Shard shard) {
        if (GlobalTransactionTemplate.currentGtrid() != null) {
            throw new IllegalStateException("order ids must be taken outside a global transaction (bound: "
                    + GlobalTransactionTemplate.currentGtrid() + ")");
        }
        int i = shard.index();
        synchronized (next) {
            if (next[i] == end[i]) {
                long block = takeBlock(shard);
                next[i] = block * BLOCK;
                end[i] = next[i] + BLOCK;
            }
            return 2 * next[i]++ + i;
        }
    }

    /** Takes the next block in its own short transaction; returns its number. */
    private static long takeBlock(Shard shard) {
        String table = shard.table("order_id_block");
        try (Connection c = shard.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE " + table + " SET next_block = next_block + 1");
                long taken;
                try (ResultSet rs = s.executeQuery("SELECT next_block FROM " + table)) {
                    if (!rs.next()) {
                        throw new SQLException(table + " has no row; the shard migrations did not run");
                    }
                    taken = rs.getLong(1) - 1;
                }
                c.commit();
                return taken;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new DataAccessResourceFailureException("cannot take a block of order ids from " + shard + ": " + e.getMessage(), e);
        }
    }
}
