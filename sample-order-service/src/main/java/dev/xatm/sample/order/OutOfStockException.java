package dev.xatm.sample.order;

/**
 * Not enough stock: thrown inside the global transaction after the order row was written, so the
 * rollback of both shards is real, not a check that ran before anything happened. 409.
 */
public class OutOfStockException extends RuntimeException {
    final long orderId;
    final String xid;
    final long productId;
    final int requested;
    final int available;

    OutOfStockException(long orderId, String xid, long productId, int requested, int available) {
        super("product " + productId + " has " + available + " in stock, " + requested + " ordered");
        this.orderId = orderId;
        this.xid = xid;
        this.productId = productId;
        this.requested = requested;
        this.available = available;
    }
}
