package dev.xatm.outbox.store;

import java.util.regex.Pattern;

/**
 * The names of the outbox's tables on one database: {@code <prefix>outbox}, {@code <prefix>inbox} and
 * Flyway's {@code <prefix>outbox_schema_history}. The prefix goes into SQL text, so it is checked.
 */
public record OutboxTables(String prefix) {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_]{0,40}");

    public OutboxTables {
        if (prefix == null || !SAFE.matcher(prefix).matches()) {
            throw new IllegalArgumentException("tm.outbox.table-prefix must be 0-40 letters, digits or '_', not '" + prefix + "'");
        }
    }

    public String outbox() {
        return prefix + "outbox";
    }

    public String inbox() {
        return prefix + "inbox";
    }

    public String schemaHistory() {
        return prefix + "outbox_schema_history";
    }
}
