package dev.xatm.sample.shard;

import java.util.Locale;

/** Which folder of sql/ a shard's migrations come from; the JDBC URL decides. */
enum ShardDialect {
    POSTGRESQL("postgresql"),
    /** MySQL 8 and MariaDB 10.5+, with either driver. */
    MYSQL("mysql"),
    H2("h2");

    final String folder;

    ShardDialect(String folder) {
        this.folder = folder;
    }

    static ShardDialect forUrl(String url, String property) {
        String u = url.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        if (u.startsWith("jdbc:mysql:") || u.startsWith("jdbc:mariadb:")) {
            return MYSQL;
        }
        if (u.startsWith("jdbc:h2:")) {
            return H2;
        }
        throw new IllegalArgumentException(property + " must be a jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb: or jdbc:h2: URL, was '"
                + url.replaceAll("\\?.*|;.*", "") + "'");
    }
}
