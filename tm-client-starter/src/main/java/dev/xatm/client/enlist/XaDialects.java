package dev.xatm.client.enlist;

import java.util.Locale;

/**
 * Picks the dialect from a JDBC URL. The driver decides, not the server: mysql-connector-j against
 * MariaDB is the MySQL dialect (its XA classes), checked against MariaDB's rules at start-up.
 */
public final class XaDialects {
    private XaDialects() {}

    /** The dialect for {@code jdbcUrl}, or null when the database is not one we can enlist. */
    public static XaDialect forUrl(String jdbcUrl) {
        if (jdbcUrl == null) {
            return null;
        }
        String u = jdbcUrl.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return present("org.postgresql.xa.PGXAConnection") ? new PostgresDialect() : null;
        }
        if (u.startsWith("jdbc:mariadb:")) {
            return present("org.mariadb.jdbc.MariaDbPoolConnection") ? new MariaDbDialect() : null;
        }
        if (u.startsWith("jdbc:mysql:")) {
            return present("com.mysql.cj.jdbc.MysqlXAConnection") ? new MySqlDialect() : null;
        }
        if (u.startsWith("jdbc:h2:")) {
            return present("org.h2.jdbcx.JdbcXAConnection") ? new H2Dialect() : null;
        }
        return null;
    }

    /** "PostgreSQL, MySQL (mysql-connector-j), MariaDB (mariadb-java-client), H2" for messages. */
    public static String supported() {
        return "PostgreSQL (pgjdbc), MySQL (mysql-connector-j), MariaDB (mariadb-java-client), H2";
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, XaDialects.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
