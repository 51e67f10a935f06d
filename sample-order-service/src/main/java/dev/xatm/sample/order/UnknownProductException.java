package dev.xatm.sample.order;

/** The product has no inventory row (ids 1..sample.products exist): 404, rolled back like a stock shortage. */
public class UnknownProductException extends RuntimeException {
    final long orderId;
    final String xid;
    final long productId;

    UnknownProductException(long orderId, String xid, long productId) {
        super("product " + productId + " does not exist");
        this.orderId = orderId;
        this.xid = xid;
        this.productId = productId;
    }
}
