-- Shard schema, MySQL 8 and MariaDB 10.5+. One copy per shard; ${table_prefix} is
-- sample.table-prefix (empty by default) and ${shard} is 0 or 1 (see sql/README.md).
-- ENGINE=InnoDB everywhere: only InnoDB takes part in XA transactions.

CREATE TABLE ${table_prefix}orders (
    id         BIGINT      NOT NULL PRIMARY KEY, -- shard-tagged: 2 * n + shard (never generated here)
    user_id    BIGINT      NOT NULL,             -- this shard holds the orders of users with user_id % 2 = shard
    product_id BIGINT      NOT NULL,             -- its inventory row may live on the other shard
    quantity   INTEGER     NOT NULL CHECK (quantity > 0),
    -- DATETIME, not TIMESTAMP: no year-2038 limit; the service reads it in the session time zone
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX ${table_prefix}orders_by_user (user_id)
) ENGINE=InnoDB;

CREATE TABLE ${table_prefix}inventory (
    product_id BIGINT  NOT NULL PRIMARY KEY,     -- only products with product_id % 2 = shard
    stock      INTEGER NOT NULL CHECK (stock >= 0)
) ENGINE=InnoDB;

-- The counter behind order ids, handed out in blocks (hi/lo) in short local transactions.
CREATE TABLE ${table_prefix}order_id_block (
    next_block BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO ${table_prefix}order_id_block (next_block) VALUES (1);

-- Which shard this database is, so swapped or duplicated shard URLs stop the service at start-up
-- instead of routing orders to the wrong database.
CREATE TABLE ${table_prefix}shard_identity (
    shard INTEGER NOT NULL
) ENGINE=InnoDB;
INSERT INTO ${table_prefix}shard_identity (shard) VALUES (${shard});
