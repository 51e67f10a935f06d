package dev.xatm.client.enlist;

import com.zaxxer.hikari.HikariDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** The HikariCP-specific bits, kept in one class so HikariCP stays optional. */
final class HikariSupport {
    static final boolean PRESENT = present();

    private HikariSupport() {}

    static String jdbcUrl(DataSource ds) {
        try {
            if (ds instanceof HikariDataSource h) {
                return h.getJdbcUrl();
            }
            if (ds.isWrapperFor(HikariDataSource.class)) {
                return ds.unwrap(HikariDataSource.class).getJdbcUrl();
            }
        } catch (SQLException e) {
            return null;
        }
        return null;
    }

    static boolean evict(DataSource ds, Connection c) throws SQLException {
        HikariDataSource h = ds instanceof HikariDataSource hd ? hd
                : ds.isWrapperFor(HikariDataSource.class) ? ds.unwrap(HikariDataSource.class) : null;
        if (h == null) {
            return false;
        }
        h.evictConnection(c);
        return true;
    }

    private static boolean present() {
        try {
            Class.forName("com.zaxxer.hikari.HikariDataSource", false, HikariSupport.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
