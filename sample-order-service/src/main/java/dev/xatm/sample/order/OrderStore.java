package dev.xatm.sample.order;

import dev.xatm.sample.shard.Shard;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of orders and inventory, on whichever shard it is given. Inside a global transaction the
 * shard's JdbcTemplate runs on that shard's XA branch; outside one, on a plain pooled connection.
 */
@Component
class OrderStore {
    void insertOrder(Shard shard, long orderId, long userId, long productId, int quantity) {
        shard.jdbc().update("INSERT INTO " + shard.table("orders") + " (id, user_id, product_id, quantity) VALUES (?, ?, ?, ?)",
                orderId, userId, productId, quantity);
    }

    /**
     * Takes {@code quantity} from the product's stock if there is enough. One conditional UPDATE, so
     * the check and the decrement cannot be split by a concurrent order; the row stays locked until
     * the global transaction ends.
     */
    boolean takeStock(Shard shard, long productId, int quantity) {
        return shard.jdbc().update("UPDATE " + shard.table("inventory") + " SET stock = stock - ? WHERE product_id = ? AND stock >= ?",
                quantity, productId, quantity) == 1;
    }

    Optional<Integer> stock(Shard shard, long productId) {
        List<Integer> rows = shard.jdbc().queryForList("SELECT stock FROM " + shard.table("inventory") + " WHERE product_id = ?",
                Integer.class, productId);
        return rows.stream().findFirst();
    }

    Optional<OrderView> order(Shard shard, long orderId) {
        RowMapper<OrderView> map = (rs, n) -> {
            Timestamp created = rs.getTimestamp("created_at");
            return new OrderView(rs.getLong("id"), rs.getLong("user_id"), rs.getLong("product_id"), rs.getInt("quantity"),
                    created == null ? null : created.toInstant().toString(), shard.index());
        };
        return shard.jdbc().query("SELECT id, user_id, product_id, quantity, created_at FROM " + shard.table("orders") + " WHERE id = ?",
                map, orderId).stream().findFirst();
    }
}
