package dev.xatm.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The cross-shard order (issue 7): insert an order on PostgreSQL; decrement the stock of a random
 * product out of {@link #PRODUCTS} and insert the order's item on MariaDB. Every variant runs exactly
 * these three statements per transaction; only the transaction machinery around them differs.
 *
 * <p>The tables carry a {@code bench_} prefix because the databases are shared with the
 * integration tests of other builds.
 */
public final class Workload {
    public static final int PRODUCTS = 10_000;
    /** Large enough that no product runs out during a run: a 409-style refusal is not what we measure. */
    public static final long INITIAL_STOCK = 1_000_000;

    static final String INSERT_ORDER = "INSERT INTO bench_orders (id, product_id, quantity) VALUES (?, ?, ?)";
    static final String DECREMENT = "UPDATE bench_inventory SET stock = stock - ? WHERE product_id = ? AND stock >= ?";
    static final String INSERT_ITEM = "INSERT INTO bench_order_items (order_id, product_id, quantity) VALUES (?, ?, ?)";

    private Workload() {
    }

    /** One order; ids come from one counter per run so both shards can be compared id by id. */
    public record Order(long id, int productId, int quantity) {
        public static Order next(long id, SplittableRandom random) {
            return new Order(id, 1 + random.nextInt(PRODUCTS), 1 + random.nextInt(3));
        }
    }

    /** The business work, on whatever connections the variant hands in (plain, XA-started, or enlisted). */
    public static void place(Connection pg, Connection maria, Order o) throws SQLException {
        try (PreparedStatement ps = pg.prepareStatement(INSERT_ORDER)) {
            ps.setLong(1, o.id());
            ps.setInt(2, o.productId());
            ps.setInt(3, o.quantity());
            ps.executeUpdate();
        }
        try (PreparedStatement ps = maria.prepareStatement(DECREMENT)) {
            ps.setInt(1, o.quantity());
            ps.setInt(2, o.productId());
            ps.setInt(3, o.quantity());
            if (ps.executeUpdate() != 1) {
                throw new SQLException("product " + o.productId() + " is out of stock");
            }
        }
        try (PreparedStatement ps = maria.prepareStatement(INSERT_ITEM)) {
            ps.setLong(1, o.id());
            ps.setInt(2, o.productId());
            ps.setInt(3, o.quantity());
            ps.executeUpdate();
        }
    }

    /** Drops and recreates the three tables and seeds the inventory: every run starts from the same state. */
    public static void resetSchema(Db pg, Db maria) throws SQLException {
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bench_orders");
            s.execute("CREATE TABLE bench_orders (id BIGINT PRIMARY KEY, product_id INT NOT NULL, quantity INT NOT NULL, "
                    + "created_at TIMESTAMP NOT NULL DEFAULT now())");
        }
        try (Connection c = maria.connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bench_order_items");
            s.execute("DROP TABLE IF EXISTS bench_inventory");
            s.execute("CREATE TABLE bench_inventory (product_id INT PRIMARY KEY, stock BIGINT NOT NULL) ENGINE=InnoDB");
            s.execute("CREATE TABLE bench_order_items (order_id BIGINT PRIMARY KEY, product_id INT NOT NULL, "
                    + "quantity INT NOT NULL) ENGINE=InnoDB");
            c.setAutoCommit(false);
            StringBuilder sql = new StringBuilder();
            for (int p = 1; p <= PRODUCTS; p++) {
                sql.append(sql.length() == 0 ? "INSERT INTO bench_inventory (product_id, stock) VALUES " : ",")
                        .append('(').append(p).append(',').append(INITIAL_STOCK).append(')');
                if (p % 1000 == 0 || p == PRODUCTS) {
                    s.executeUpdate(sql.toString());
                    sql.setLength(0);
                }
            }
            c.commit();
        }
    }

    /** What the consistency check found after a run. {@code problems} is empty when both shards agree. */
    public record Check(long orders, long items, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /**
     * Both shards must tell the same story: the same order ids on both sides, as many orders as the
     * load generator saw committed, the stock decremented by exactly the quantities ordered, and no
     * prepared branch of this run left behind (pg_prepared_xacts, XA RECOVER).
     */
    public static Check check(Db pg, Db maria, long committed, String xidMarker) throws SQLException {
        List<String> problems = new ArrayList<>();
        long[] orderIds;
        long orderQty;
        try (Connection c = pg.connect(); Statement s = c.createStatement()) {
            orderIds = ids(s, "SELECT id FROM bench_orders ORDER BY id");
            orderQty = single(s, "SELECT COALESCE(SUM(quantity), 0) FROM bench_orders");
            int prepared = 0;
            try (ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")) {
                while (rs.next()) {
                    if (XidMarker.pgGidContains(rs.getString(1), xidMarker)) {
                        prepared++;
                    }
                }
            }
            if (prepared > 0) {
                problems.add(prepared + " prepared branch(es) of this run left on PostgreSQL");
            }
        }
        long[] itemIds;
        long itemQty;
        long stock;
        try (Connection c = maria.connect(); Statement s = c.createStatement()) {
            itemIds = ids(s, "SELECT order_id FROM bench_order_items ORDER BY order_id");
            itemQty = single(s, "SELECT COALESCE(SUM(quantity), 0) FROM bench_order_items");
            stock = single(s, "SELECT SUM(stock) FROM bench_inventory");
            int prepared = 0;
            try (ResultSet rs = s.executeQuery("XA RECOVER")) {
                while (rs.next()) {
                    if (rs.getString("data").contains(xidMarker)) {
                        prepared++;
                    }
                }
            }
            if (prepared > 0) {
                problems.add(prepared + " prepared branch(es) of this run left on MariaDB");
            }
        }
        if (!Arrays.equals(orderIds, itemIds)) {
            problems.add("order ids differ between the shards: " + orderIds.length + " orders on PostgreSQL, "
                    + itemIds.length + " items on MariaDB, " + differing(orderIds, itemIds) + " ids on one side only");
        }
        if (orderIds.length != committed) {
            problems.add("the load generator saw " + committed + " commits, PostgreSQL holds " + orderIds.length + " orders");
        }
        if (orderQty != itemQty) {
            problems.add("quantities differ: " + orderQty + " ordered on PostgreSQL, " + itemQty + " on MariaDB");
        }
        long sold = PRODUCTS * INITIAL_STOCK - stock;
        if (sold != itemQty) {
            problems.add("stock went down by " + sold + " but the items add up to " + itemQty);
        }
        return new Check(orderIds.length, itemIds.length, problems);
    }

    private static long single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static long[] ids(Statement s, String sql) throws SQLException {
        long[] out = new long[1024];
        int n = 0;
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = rs.getLong(1);
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Size of the symmetric difference of two sorted id arrays. */
    private static long differing(long[] a, long[] b) {
        int i = 0;
        int j = 0;
        long d = 0;
        while (i < a.length || j < b.length) {
            if (j == b.length || (i < a.length && a[i] < b[j])) {
                d++;
                i++;
            } else if (i == a.length || b[j] < a[i]) {
                d++;
                j++;
            } else {
                i++;
                j++;
            }
        }
        return d;
    }
}
