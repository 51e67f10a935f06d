-- Seeds this shard's products on first start: every product_id in 1..${products} with
-- product_id % 2 = ${shard}, each with ${initial_stock} units (sample.products,
-- sample.initial-stock). Flyway runs it once per database, so later starts keep the stock as it is.
--
-- Plain SQL that PostgreSQL, MySQL, MariaDB and H2 all accept: the numbers 1..1,000,000 come from a
-- cross join of a ten-row digits table (no generate_series, no recursive CTE depth limits).

CREATE TABLE ${table_prefix}seed_digits (d INTEGER NOT NULL);
INSERT INTO ${table_prefix}seed_digits (d) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);

INSERT INTO ${table_prefix}inventory (product_id, stock)
SELECT n, ${initial_stock}
FROM (SELECT 1 + d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d + 10000 * d4.d + 100000 * d5.d AS n
      FROM ${table_prefix}seed_digits d0, ${table_prefix}seed_digits d1, ${table_prefix}seed_digits d2,
           ${table_prefix}seed_digits d3, ${table_prefix}seed_digits d4, ${table_prefix}seed_digits d5
      -- prune digits that can only give numbers past the end, so 100 products join 100 rows, not 10^6
      WHERE 10 * d1.d < ${products} AND 100 * d2.d < ${products} AND 1000 * d3.d < ${products}
        AND 10000 * d4.d < ${products} AND 100000 * d5.d < ${products}) numbers
WHERE n <= ${products} AND MOD(n, 2) = ${shard};

DROP TABLE ${table_prefix}seed_digits;
