package dev.xatm.sample.order;

import java.util.Set;

/** The body of {@code POST /orders}. Boxed, so a missing field is told apart from a zero. */
public record OrderRequest(Long userId, Long productId, Integer quantity) {
    static final int MAX_QUANTITY = 1_000_000;
    static final String EXAMPLE = "{\"userId\": 1, \"productId\": 2, \"quantity\": 3}";
    static final Set<String> FIELDS = Set.of("userId", "productId", "quantity");

    /** What a valid value of {@code field} is, in words. */
    static String rule(String field) {
        return switch (field) {
            case "userId" -> "userId must be a whole number >= 0";
            case "productId" -> "productId must be a whole number >= 1";
            case "quantity" -> "quantity must be between 1 and " + MAX_QUANTITY;
            default -> throw new IllegalArgumentException("no field " + field);
        };
    }

    /** Throws {@link InvalidOrderException} naming the first bad field. */
    void validate() {
        if (userId == null || productId == null || quantity == null) {
            throw new InvalidOrderException("userId, productId and quantity are required, e.g. " + EXAMPLE);
        }
        if (userId < 0) {
            throw new InvalidOrderException(rule("userId") + ", was " + userId);
        }
        if (productId < 1) {
            throw new InvalidOrderException(rule("productId") + ", was " + productId);
        }
        if (quantity < 1 || quantity > MAX_QUANTITY) {
            throw new InvalidOrderException(rule("quantity") + ", was " + quantity);
        }
    }
}
