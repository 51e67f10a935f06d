package dev.xatm.sample.order;

/**
 * The global transaction failed for a reason other than the business rules: 503. {@link #outcome}
 * says what the caller may conclude: ROLLED_BACK means nothing was written anywhere; UNKNOWN means
 * the coordinator could not say (for example it became unreachable while committing), and
 * {@code GET /orders/{orderId}} will tell once it has finished the transaction.
 */
public class OrderNotPlacedException extends RuntimeException {
    enum Outcome { ROLLED_BACK, UNKNOWN }

    final long orderId;
    /** Null when the global transaction could not even begin. */
    final String xid;
    final Outcome outcome;

    OrderNotPlacedException(long orderId, String xid, Outcome outcome, Throwable cause) {
        super(cause.getMessage(), cause);
        this.orderId = orderId;
        this.xid = xid;
        this.outcome = outcome;
    }
}
