package dev.xatm.sample.shard;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.regex.Pattern;

/** Settings of the sample, under {@code sample}. The defaults are the embedded demo: two H2 files under ./sample-data. */
@ConfigurationProperties(prefix = "sample")
public class SampleProperties {
    static final int MAX_PRODUCTS = 1_000_000;
    private static final Pattern TABLE_PREFIX = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,29}|");

    /** Shard 0: orders of even user ids, inventory of even product ids. */
    private ShardSettings shard0 = ShardSettings.h2("shard0");

    /** Shard 1: orders of odd user ids, inventory of odd product ids. */
    private ShardSettings shard1 = ShardSettings.h2("shard1");

    /** Stock seeded for each product on a shard's first start. */
    private int initialStock = 1000;

    /** How many products (ids 1..products) are seeded on first start, split over the shards by product id. */
    private int products = 100;

    /** Put before every table name (orders, inventory, ...), so several deployments or test runs can share one database. Letters, digits, underscores. */
    private String tablePrefix = "";

    /** Connection settings of one shard; the URL decides the database (PostgreSQL, MySQL, MariaDB or H2). */
    public static class ShardSettings {
        /** JDBC URL: jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb: or jdbc:h2:. */
        private String url;

        private String username;

        private String password;

        /** Connections in this shard's pool. A global transaction holds one per shard it touches until phase 2 is done. */
        private int maximumPoolSize = 10;

        static ShardSettings h2(String name) {
            ShardSettings s = new ShardSettings();
            // DB_CLOSE_ON_EXIT=FALSE: the pool closes the database at shutdown, not H2's own hook
            // (which would race it). LOCK_TIMEOUT: concurrent orders for one product wait for the
            // row while the previous order finishes its two phases, instead of failing after 1 s.
            s.url = "jdbc:h2:file:./sample-data/" + name + ";DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=10000";
            s.username = "sa";
            s.password = "";
            return s;
        }

        public String getUrl() {
            return url;
        }

        public void setUrl(String url) {
            this.url = url;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public int getMaximumPoolSize() {
            return maximumPoolSize;
        }

        public void setMaximumPoolSize(int maximumPoolSize) {
            this.maximumPoolSize = maximumPoolSize;
        }
    }

    /** Refuses values that would only fail later and less clearly. */
    public void validate() {
        for (int i = 0; i < 2; i++) {
            ShardSettings s = shard(i);
            if (s.url == null || s.url.isBlank()) {
                throw new IllegalArgumentException("sample.shard" + i + ".url must be set");
            }
            ShardDialect.forUrl(s.url, "sample.shard" + i + ".url");
            if (s.maximumPoolSize < 2) {
                throw new IllegalArgumentException("sample.shard" + i + ".maximum-pool-size must be at least 2, was " + s.maximumPoolSize);
            }
        }
        if (products < 1 || products > MAX_PRODUCTS) {
            throw new IllegalArgumentException("sample.products must be between 1 and " + MAX_PRODUCTS + ", was " + products);
        }
        if (initialStock < 0) {
            throw new IllegalArgumentException("sample.initial-stock must be >= 0, was " + initialStock);
        }
        if (tablePrefix == null || !TABLE_PREFIX.matcher(tablePrefix).matches()) {
            throw new IllegalArgumentException("sample.table-prefix must be empty or a letter followed by at most 29 letters, "
                    + "digits or underscores, was '" + tablePrefix + "'");
        }
    }

    public ShardSettings shard(int index) {
        return switch (index) {
            case 0 -> shard0;
            case 1 -> shard1;
            default -> throw new IllegalArgumentException("no shard " + index);
        };
    }

    public ShardSettings getShard0() {
        return shard0;
    }

    public void setShard0(ShardSettings shard0) {
        this.shard0 = shard0;
    }

    public ShardSettings getShard1() {
        return shard1;
    }

    public void setShard1(ShardSettings shard1) {
        this.shard1 = shard1;
    }

    public int getInitialStock() {
        return initialStock;
    }

    public void setInitialStock(int initialStock) {
        this.initialStock = initialStock;
    }

    public int getProducts() {
        return products;
    }

    public void setProducts(int products) {
        this.products = products;
    }

    public String getTablePrefix() {
        return tablePrefix;
    }

    public void setTablePrefix(String tablePrefix) {
        this.tablePrefix = tablePrefix;
    }
}
