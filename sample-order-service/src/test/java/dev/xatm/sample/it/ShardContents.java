package dev.xatm.sample.it;

import dev.xatm.testkit.TestDb;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the sample's two shards hold, read directly (not through the service): every order row with the
 * shard it is on, and every product's stock. An order id or a product on both shards fails at once,
 * and so does a product on the wrong shard (inventory lives on the shard of {@code productId % 2}).
 *
 * @param orders order id to its row
 * @param stock  product id to its stock
 */
record ShardContents(Map<Long, Order> orders, Map<Long, Integer> stock) {

    record Order(long id, long userId, long productId, int quantity, int shard) {}

    /** Reads the tables {@code <tablePrefix>orders} and {@code <tablePrefix>inventory} of shard 0, then shard 1. */
    static ShardContents read(List<TestDb> shards, String tablePrefix) throws SQLException {
        Map<Long, Order> orders = new HashMap<>();
        Map<Long, Integer> stock = new HashMap<>();
        for (int shard = 0; shard < shards.size(); shard++) {
            try (Connection c = shards.get(shard).open(); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT id, user_id, product_id, quantity FROM " + tablePrefix + "orders")) {
                    while (rs.next()) {
                        Order row = new Order(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getInt(4), shard);
                        assertThat(orders.put(row.id(), row)).as("order id " + row.id() + " on both shards").isNull();
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT product_id, stock FROM " + tablePrefix + "inventory")) {
                    while (rs.next()) {
                        assertThat(stock.put(rs.getLong(1), rs.getInt(2))).as("product " + rs.getLong(1) + " on both shards").isNull();
                        assertThat(Math.floorMod(rs.getLong(1), 2)).as("inventory shard of product " + rs.getLong(1)).isEqualTo(shard);
                    }
                }
            }
        }
        return new ShardContents(orders, stock);
    }
}
