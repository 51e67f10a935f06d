-- The transactional outbox (MySQL 8, MariaDB 10.6+: the relay needs FOR UPDATE SKIP LOCKED): one row
-- per message, written by Outbox.publish inside the application's global transaction (on an
-- enlisted data source), so the row commits or rolls back with the data it announces. InnoDB: XA
-- needs it. seq orders a key's messages; message_id is what consumers deduplicate by.
CREATE TABLE ${prefix}outbox (
    seq          BIGINT       NOT NULL AUTO_INCREMENT,
    message_id   VARCHAR(64)  NOT NULL,
    destination  VARCHAR(255) NOT NULL,
    msg_key      VARCHAR(255) NOT NULL,
    payload      LONGTEXT     NOT NULL,
    headers      TEXT         NULL,
    created_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at      DATETIME(6)  NULL,
    PRIMARY KEY (seq),
    UNIQUE KEY ${prefix}outbox_message_id (message_id),
    -- the claim (unsent rows in seq order) and the per-key check
    KEY ${prefix}outbox_unsent (sent_at, seq),
    KEY ${prefix}outbox_unsent_key (msg_key, sent_at, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
