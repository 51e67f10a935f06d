package dev.xatm.sample.shard;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;

/**
 * Finds out, before the pool opens, whether a shard's H2 file database is held by another process.
 *
 * <p>Why ask first instead of reading the pool's failure: HikariCP retries a failing first
 * connection until its initialization timeout (10 s here) and logs the error with its full stack
 * trace, which is exactly the noise a newcomer who started the sample twice should not have to
 * read. One plain connection, opened and closed, answers at once.
 */
final class H2Files {
    /** H2's "Database may be already in use" (DATABASE_ALREADY_OPEN_1): the file is locked by another process. */
    static final int DATABASE_ALREADY_OPEN = 90020;

    private H2Files() {}

    /** Throws {@link ShardInUseException} when the shard is an H2 file database another process holds. */
    static void checkNotInUse(int shard, SampleProperties.ShardSettings settings) {
        String database = fileDatabase(settings.getUrl());
        if (database == null) {
            return;
        }
        try (Connection ignored = DriverManager.getConnection(settings.getUrl(), settings.getUsername(), settings.getPassword())) {
            // opened, so no other process holds it; the pool opens it again right after
        } catch (SQLException e) {
            if (e.getErrorCode() == DATABASE_ALREADY_OPEN) {
                throw new ShardInUseException(shard, database, e);
            }
            // any other problem is the pool's to report, naming the shard
        }
    }

    /**
     * The database an embedded H2 URL names ({@code jdbc:h2:file:./sample-data/shard0;...} gives
     * {@code ./sample-data/shard0}), or null for other databases, in-memory ones and H2 servers,
     * which several processes may share.
     */
    static String fileDatabase(String url) {
        String lower = url.toLowerCase(Locale.ROOT);
        if (!lower.startsWith("jdbc:h2:")) {
            return null;
        }
        String rest = url.substring("jdbc:h2:".length());
        String kind = rest.toLowerCase(Locale.ROOT);
        if (kind.startsWith("mem:") || kind.startsWith("tcp:") || kind.startsWith("ssl:")) {
            return null;
        }
        if (kind.startsWith("file:")) {
            rest = rest.substring("file:".length());
        }
        int settings = rest.indexOf(';');
        return settings < 0 ? rest : rest.substring(0, settings);
    }
}
