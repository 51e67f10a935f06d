package dev.xatm.sample.shard;

/**
 * A shard's H2 file database is open in another process. H2 lets one process at a time open a file
 * database (it locks the file), so a second sample started in the same directory cannot work on
 * the default {@code ./sample-data} shards; {@link ShardInUseFailureAnalyzer} turns this into a
 * short start-up report instead of a stack trace.
 */
public final class ShardInUseException extends IllegalStateException {
    private final int shard;
    private final String database;

    ShardInUseException(int shard, String database, Throwable cause) {
        super("shard " + shard + "'s H2 database " + database + " is in use by another process (H2 file lock); "
                + "stop the other sample or set " + property(shard), cause);
        this.shard = shard;
        this.database = database;
    }

    /** The property that names this shard's database. */
    static String property(int shard) {
        return "sample.shard" + shard + ".url";
    }

    public int shard() {
        return shard;
    }

    /** The database as the URL names it (a path, without the URL's settings). */
    public String database() {
        return database;
    }
}
