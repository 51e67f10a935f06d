package dev.xatm.sample.order;

/** A product's stock as {@code GET /inventory/{productId}} shows it. */
public record StockView(long productId, int stock, int shard) {}
