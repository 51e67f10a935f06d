-- Shard schema, H2 2.x (the embedded default: two H2 file databases). One copy per shard;
-- ${table_prefix} is sample.table-prefix (empty by default) and ${shard} is 0 or 1 (see sql/README.md).

CREATE TABLE ${table_prefix}orders (
    id         BIGINT                   NOT NULL PRIMARY KEY, -- shard-tagged: 2 * n + shard
    user_id    BIGINT                   NOT NULL,             -- user_id % 2 = shard
    product_id BIGINT                   NOT NULL,             -- its inventory row may live on the other shard
    quantity   INTEGER                  NOT NULL CHECK (quantity > 0),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ${table_prefix}orders_by_user ON ${table_prefix}orders (user_id);

CREATE TABLE ${table_prefix}inventory (
    product_id BIGINT  NOT NULL PRIMARY KEY,                  -- only products with product_id % 2 = shard
    stock      INTEGER NOT NULL CHECK (stock >= 0)
);

-- The counter behind order ids, handed out in blocks (hi/lo) in short local transactions.
CREATE TABLE ${table_prefix}order_id_block (
    next_block BIGINT NOT NULL
);
INSERT INTO ${table_prefix}order_id_block (next_block) VALUES (1);

-- Which shard this database is, so swapped or duplicated shard URLs stop the service at start-up.
CREATE TABLE ${table_prefix}shard_identity (
    shard INTEGER NOT NULL
);
INSERT INTO ${table_prefix}shard_identity (shard) VALUES (${shard});
