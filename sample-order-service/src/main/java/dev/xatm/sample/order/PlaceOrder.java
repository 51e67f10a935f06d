package dev.xatm.sample.order;

import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.sample.events.OrderEvents;
import dev.xatm.sample.shard.Shard;
import dev.xatm.sample.shard.Shards;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Placing an order: the one method of the sample that needs xatm. The order row goes to the user's
 * shard, the stock change to the product's shard, and {@code @GlobalTransactional} makes the two
 * writes one transaction: both commit (two-phase commit when the shards differ, one-phase when
 * they are the same), or, on any exception, both roll back. With the outbox on, the OrderPlaced
 * message is a third write of the same transaction (on the order's shard): it exists only if the
 * order does.
 */
@Service
public class PlaceOrder {
    private static final Logger log = LoggerFactory.getLogger(PlaceOrder.class);

    private final Shards shards;
    private final OrderStore store;
    private final OrderEvents events;

    PlaceOrder(Shards shards, OrderStore store, OrderEvents events) {
        this.shards = shards;
        this.store = store;
        this.events = events;
    }

    /**
     * Writes order {@code orderId} and takes its stock. The order is written first on purpose: when
     * the stock turns out to be short, the exception rolls back a write that really happened, on the
     * other database. {@code attempt} records how far it got, for error reporting.
     */
    @GlobalTransactional(name = "place-order", timeoutMs = 10_000)
    public OrderPlaced place(long orderId, OrderRequest r, Attempt attempt) {
        String xid = GlobalTransactionTemplate.currentGtrid();
        attempt.xid = xid;
        Shard orderShard = shards.forUser(r.userId());
        Shard inventoryShard = shards.forProduct(r.productId());
        store.insertOrder(orderShard, orderId, r.userId(), r.productId(), r.quantity());
        if (!store.takeStock(inventoryShard, r.productId(), r.quantity())) {
            // still inside the global transaction: reads this branch, which has changed nothing in inventory
            int available = store.stock(inventoryShard, r.productId())
                    .orElseThrow(() -> new UnknownProductException(orderId, xid, r.productId()));
            throw new OutOfStockException(orderId, xid, r.productId(), r.quantity(), available);
        }
        events.orderPlaced(orderShard, orderId, r.userId(), r.productId(), r.quantity(), xid);
        attempt.bodyFinished = true;
        log.debug("order {} written on {}, stock of product {} taken on {}, in {}", orderId, orderShard, r.productId(), inventoryShard, xid);
        return new OrderPlaced(orderId, xid, orderShard.index(), inventoryShard.index());
    }
}
