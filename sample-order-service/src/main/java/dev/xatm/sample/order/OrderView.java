package dev.xatm.sample.order;

/** An order as {@code GET /orders/{id}} shows it. */
public record OrderView(long orderId, long userId, long productId, int quantity, String createdAt, int shard) {}
