package dev.xatm.sample.order;

/** The body of {@code POST /orders}. Boxed, so a missing field is told apart from a zero. */
public record OrderRequest(Long userId, Long productId, Integer quantity) {
    static final int MAX_QUANTITY = 1_000_000;

    /** Throws {@link InvalidOrderException} naming the first bad field. */
    void validate() {
        if (userId == null || productId == null || quantity == null) {
            throw new InvalidOrderException("userId, productId and quantity are required, e.g. "
                    + "{\"userId\": 1, \"productId\": 2, \"quantity\": 3}");
        }
        if (userId < 0) {
            throw new InvalidOrderException("userId must be >= 0, was " + userId);
        }
        if (productId < 1) {
            throw new InvalidOrderException("productId must be >= 1, was " + productId);
        }
        if (quantity < 1 || quantity > MAX_QUANTITY) {
            throw new InvalidOrderException("quantity must be between 1 and " + MAX_QUANTITY + ", was " + quantity);
        }
    }
}
