-- The consumer side's inbox on H2: one row per (consumer, message id) handled.
CREATE TABLE ${prefix}inbox (
    consumer     VARCHAR(100) NOT NULL,
    message_id   VARCHAR(64)  NOT NULL,
    received_at  TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer, message_id)
);
