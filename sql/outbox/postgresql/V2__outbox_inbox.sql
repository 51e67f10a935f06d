-- The consumer side's inbox: one row per (consumer, message id) handled. Inserting it in the same
-- transaction as the consumer's effect makes a redelivered message a no-op (Inbox.firstDelivery).
CREATE TABLE ${prefix}inbox (
    consumer     VARCHAR(100) NOT NULL,
    message_id   VARCHAR(64)  NOT NULL,
    received_at  TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (consumer, message_id)
);
