package dev.xatm.client.it.embedded;

import dev.xatm.protocol.TmXid;
import org.h2.jdbcx.JdbcDataSource;

import javax.sql.XAConnection;
import javax.transaction.xa.XAResource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** One H2 file database of the embedded-mode tests, opened directly (not through the application). */
final class H2File {
    private final String url;

    H2File(Path dir, String name) {
        this.url = "jdbc:h2:file:" + dir.resolve(name).toAbsolutePath();
    }

    String url() {
        return url;
    }

    private JdbcDataSource dataSource() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(url);
        ds.setUser("sa");
        return ds;
    }

    void createTable(String table) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, note VARCHAR(200))");
        }
    }

    Set<Long> ids(String table) throws SQLException {
        Set<Long> out = new HashSet<>();
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    /** Prepared (in-doubt) branches of ours, as XA RECOVER reports them. */
    List<TmXid> prepared() throws SQLException {
        List<TmXid> out = new ArrayList<>();
        XAConnection xc = dataSource().getXAConnection();
        try {
            for (var x : xc.getXAResource().recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN)) {
                TmXid.parse(x).ifPresent(out::add);
            }
        } catch (javax.transaction.xa.XAException e) {
            throw new SQLException("XA RECOVER on " + url + " failed: " + e, e);
        } finally {
            xc.close();
        }
        return out;
    }
}
