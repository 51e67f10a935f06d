package dev.xatm.client.enlist;

import dev.xatm.client.TmUsageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * One data source the starter watches: the application's pool, the database it points at and the
 * dialect to run XA on it (null when the database is not one we can enlist: such a data source
 * still works outside global transactions and fails at first use inside one). Immutable, thread-safe.
 */
public final class EnlistedResource {
    private static final Logger log = LoggerFactory.getLogger(EnlistedResource.class);

    private final String beanName;
    private final String resourceId;
    private final String safeUrl;
    private final XaDialect dialect;
    private final DataSource pool;
    /** {@link BqualMinter#databaseTag} of the database this pool connects to; read from the first connection. */
    private volatile String databaseTag;

    public EnlistedResource(String beanName, String jdbcUrl, XaDialect dialect, DataSource pool, String resourceIdOverride) {
        this.beanName = beanName;
        this.safeUrl = safeUrl(jdbcUrl);
        this.resourceId = resourceIdOverride != null && !resourceIdOverride.isBlank() ? resourceIdOverride : resourceId(jdbcUrl, beanName);
        this.dialect = dialect;
        this.pool = pool;
    }

    /** The name the coordinator knows the database by: the URL without "jdbc:", credentials and parameters. */
    static String resourceId(String jdbcUrl, String beanName) {
        String s = safeUrl(jdbcUrl);
        if (s == null || s.isEmpty()) {
            s = beanName;
        }
        s = s.replaceAll("[^\\x21-\\x7E]", "_");
        return s.length() > 128 ? s.substring(0, 128) : s;
    }

    /** The URL without scheme, user info and parameters: fit for logs and messages. */
    static String safeUrl(String jdbcUrl) {
        if (jdbcUrl == null) {
            return null;
        }
        String s = jdbcUrl.startsWith("jdbc:") ? jdbcUrl.substring(5) : jdbcUrl;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        int semi = s.indexOf(';'); // H2 settings may carry PASSWORD=...
        if (semi >= 0) {
            s = s.substring(0, semi);
        }
        int slashes = s.indexOf("//");
        int at = s.indexOf('@');
        if (slashes >= 0 && at > slashes) {
            s = s.substring(0, slashes + 2) + s.substring(at + 1);
        }
        return s;
    }

    public String beanName() {
        return beanName;
    }

    public String resourceId() {
        return resourceId;
    }

    public XaDialect dialect() {
        return dialect;
    }

    public boolean supported() {
        return dialect != null;
    }

    public DataSource pool() {
        return pool;
    }

    /** The dialect, or a usage error naming the database when it cannot be enlisted. */
    public XaDialect requireDialect() {
        if (dialect == null) {
            throw new TmUsageException("Data source '" + beanName + "' (" + (safeUrl == null ? "unknown JDBC URL" : safeUrl)
                    + ") was used inside a global transaction, but this database cannot be enlisted as an XA branch. "
                    + "Supported: " + XaDialects.supported() + ". Use it outside @GlobalTransactional (propagation NOT_SUPPORTED) "
                    + "or point it at a supported database.");
        }
        return dialect;
    }

    /**
     * The tag of the database {@code c} (a connection of this pool) is connected to, as it reports its
     * name: every bqual minted for this resource carries it, and recovery here takes only branches that
     * carry it. Read once, then kept: a pool always reaches the same database.
     */
    public String databaseTag(Connection c) throws SQLException {
        String tag = databaseTag;
        if (tag == null) {
            tag = BqualMinter.databaseTag(c.getCatalog());
            databaseTag = tag;
        }
        return tag;
    }

    /** A connection from the application's pool. */
    public Connection borrow() throws SQLException {
        return pool.getConnection();
    }

    /** Gives a healthy connection back to the pool. */
    public void giveBack(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.warn("Returning a connection of '{}' to its pool failed: {}", beanName, e.toString());
        }
    }

    /**
     * Takes a connection whose state we cannot trust (XA call failed mid-way, outcome unknown) out of
     * the pool for good: HikariCP evicts it; another pool just gets it closed.
     */
    public void discard(Connection c) {
        try {
            if (HikariSupport.PRESENT && HikariSupport.evict(pool, c)) {
                return;
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("Evicting a connection of '{}': {}", beanName, e.toString());
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            log.debug("Closing a discarded connection of '{}': {}", beanName, e.toString());
        }
    }

    @Override
    public String toString() {
        return beanName + " (" + resourceId + ")";
    }

    /** The pool's JDBC URL when we can know it without a connection. */
    public static String jdbcUrlOf(DataSource ds) {
        if (HikariSupport.PRESENT) {
            String url = HikariSupport.jdbcUrl(ds);
            if (url != null) {
                return url;
            }
        }
        return null;
    }

    /** Which database a URL names, for log lines: "postgresql", "mariadb". */
    static String kind(String jdbcUrl) {
        if (jdbcUrl == null) {
            return "unknown";
        }
        String s = jdbcUrl.toLowerCase(Locale.ROOT);
        String[] parts = s.split(":");
        return parts.length > 1 ? parts[1] : s;
    }
}
