-- The transactional outbox: one row per message, written by Outbox.publish inside the application's
-- global transaction (on an enlisted data source), so the row commits or rolls back with the data
-- it announces. The relay claims unsent rows (FOR UPDATE SKIP LOCKED), publishes them, sets sent_at.
-- seq orders a key's messages; message_id is what consumers deduplicate by.
CREATE TABLE ${prefix}outbox (
    seq          BIGSERIAL    PRIMARY KEY,
    message_id   VARCHAR(64)  NOT NULL,
    destination  VARCHAR(255) NOT NULL,
    msg_key      VARCHAR(255) NOT NULL,
    payload      TEXT         NOT NULL,
    headers      TEXT,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    sent_at      TIMESTAMPTZ,
    CONSTRAINT ${prefix}outbox_message_id UNIQUE (message_id)
);

-- The relay's claim (unsent rows in seq order) and its per-key check read only unsent rows:
-- partial indexes stay as small as the backlog.
CREATE INDEX ${prefix}outbox_unsent ON ${prefix}outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX ${prefix}outbox_unsent_key ON ${prefix}outbox (msg_key, seq) WHERE sent_at IS NULL;
CREATE INDEX ${prefix}outbox_sent ON ${prefix}outbox (sent_at) WHERE sent_at IS NOT NULL;
