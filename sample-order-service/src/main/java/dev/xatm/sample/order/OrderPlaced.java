package dev.xatm.sample.order;

/** The 201 answer of {@code POST /orders}: the order, the global transaction that wrote it, and where. */
public record OrderPlaced(long orderId, String xid, int orderShard, int inventoryShard) {}
