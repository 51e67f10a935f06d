package dev.xatm.client.enlist;

import dev.xatm.client.TmUsageException;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The start-up check shared by both drivers of the MySQL family. */
final class MySqlFamily {
    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)");

    private MySqlFamily() {}

    /**
     * Prepared XA must survive a disconnect: MariaDB >= 10.5 (MDEV-742), MySQL >=
     * 5.7.7. XA RECOVER must be allowed (MySQL 8 needs XA_RECOVER_ADMIN), or
     * recovery could not see our prepared branches.
     */
    static void check(Connection c, String resource) throws SQLException {
        String version;
        try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT VERSION()")) {
            rs.next();
            version = rs.getString(1);
        }
        boolean maria = version.toLowerCase().contains("mariadb");
        Matcher m = VERSION.matcher(version);
        if (m.find()) {
            int[] v = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
            int[] min = maria ? new int[] {10, 5, 0} : new int[] {5, 7, 7};
            if (compare(v, min) < 0) {
                throw new TmUsageException("Data source '" + resource + "' is " + (maria ? "MariaDB " : "MySQL ") + version
                        + ": prepared XA transactions on this version do not survive a disconnect, so a global transaction could "
                        + "lose a branch. Use " + (maria ? "MariaDB 10.5" : "MySQL 5.7.7") + " or later.");
            }
        }
        try (Statement s = c.createStatement()) {
            s.executeQuery("XA RECOVER").close();
        } catch (SQLException e) {
            throw new TmUsageException("Data source '" + resource + "': XA RECOVER failed (" + e.getMessage()
                    + "). The agent needs it to find prepared branches after a restart; on MySQL 8 grant XA_RECOVER_ADMIN to the "
                    + "application's user.", e);
        }
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < 3; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }
}
