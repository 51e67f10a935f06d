-- The sample's OrderPlaced consumer (sample.order-events.consumer=true) counts each order it hears
-- of here, on shard 0: one row per order, deliveries = how often its effect ran. With the inbox
-- deduplicating redeliveries, deliveries stays 1. Created on every shard (one schema for all).
CREATE TABLE ${table_prefix}order_placed_seen (
    order_id    BIGINT NOT NULL PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    deliveries  INT    NOT NULL
) ENGINE=InnoDB;
