package dev.xatm.outbox;

import dev.xatm.client.enlist.EnlistingDataSource;
import dev.xatm.outbox.store.OutboxStore;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The data sources that carry an outbox (and inbox) table, by bean name, each with its store; the
 * first is the default of {@link Outbox} and {@link Inbox}. Built once at start-up (the tables are
 * migrated by then). Immutable, thread-safe.
 */
public final class OutboxDataSources {
    /** One data source with outbox tables. */
    public record Entry(String name, DataSource dataSource, OutboxStore store) {}

    private final List<Entry> entries;

    public OutboxDataSources(List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("no outbox data source");
        }
        this.entries = List.copyOf(entries);
    }

    public List<Entry> all() {
        return entries;
    }

    public Entry first() {
        return entries.get(0);
    }

    /** The entry of this DataSource instance (the bean as injected, i.e. as the starter wrapped it). */
    public Entry of(DataSource dataSource) {
        for (Entry e : entries) {
            if (e.dataSource() == dataSource) {
                return e;
            }
        }
        throw new IllegalStateException("data source " + dataSource + " has no outbox: list its bean name in tm.outbox.data-sources"
                + " (now " + names() + "), so its tables are created and its relay runs");
    }

    public Entry named(String beanName) {
        for (Entry e : entries) {
            if (e.name().equals(beanName)) {
                return e;
            }
        }
        throw new IllegalStateException("no outbox on data source '" + beanName + "': tm.outbox.data-sources is " + names());
    }

    public List<String> names() {
        List<String> names = new ArrayList<>();
        entries.forEach(e -> names.add(e.name()));
        return names;
    }

    /**
     * Throws unless {@code dataSource} is one the xatm starter enlists: only then does a row written
     * on it inside a global transaction commit or roll back with that transaction.
     */
    public static void requireEnlisted(String name, DataSource dataSource) {
        if (!(dataSource instanceof EnlistingDataSource eds) || !eds.resource().supported()) {
            throw new IllegalStateException("data source '" + name + "' is not enlisted by the xatm starter (not wrapped, excluded,"
                    + " or a database it cannot run XA on): an outbox row written there would not commit or roll back with the"
                    + " global transaction");
        }
    }
}
