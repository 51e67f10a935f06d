package dev.xatm.outbox.store;

import dev.xatm.outbox.OutboxMessage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The SQL of the outbox and inbox tables on one database. Stateless apart from the names and the
 * dialect; every method works on the connection it is given, so the caller owns the transaction:
 * the application's global transaction for {@link #insert} and {@link #insertInbox}, the relay's
 * local one for the rest. Thread-safe.
 */
public final class OutboxStore {
    private final OutboxTables tables;
    private final OutboxDialect dialect;

    public OutboxStore(OutboxTables tables, OutboxDialect dialect) {
        this.tables = tables;
        this.dialect = dialect;
    }

    public OutboxDialect dialect() {
        return dialect;
    }

    public OutboxTables tables() {
        return tables;
    }

    public void insert(Connection c, String messageId, String destination, String key, String payload, String headers)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + tables.outbox()
                + " (message_id, destination, msg_key, payload, headers) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, messageId);
            ps.setString(2, destination);
            ps.setString(3, key);
            ps.setString(4, payload);
            ps.setString(5, headers);
            ps.executeUpdate();
        }
    }

    /**
     * Locks up to {@code limit} unsent rows, lowest seq first, skipping rows another relay holds (and
     * rows of transactions not committed yet, which no other session can see). Must run in a
     * transaction; the locks last until it ends.
     */
    public List<OutboxMessage> claim(Connection c, int limit) throws SQLException {
        String sql = "SELECT seq, message_id, destination, msg_key, payload, headers, " + dialect.ageMillisExpression
                + " AS age_ms FROM " + tables.outbox() + " WHERE sent_at IS NULL ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED";
        List<OutboxMessage> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new OutboxMessage(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            HeaderCodec.decode(rs.getString(6)), Math.max(0, rs.getLong(7))));
                }
            }
        }
        return rows;
    }

    /**
     * Every unsent seq of the given keys up to {@code maxSeq}, by key: a plain read, so it also sees
     * rows that another relay has locked (row locks do not block reads in PostgreSQL or InnoDB).
     */
    public Map<String, TreeSet<Long>> unsentSeqs(Connection c, Collection<String> keys, long maxSeq) throws SQLException {
        Map<String, TreeSet<Long>> byKey = new LinkedHashMap<>();
        if (keys.isEmpty()) {
            return byKey;
        }
        List<String> list = List.copyOf(keys);
        String sql = "SELECT msg_key, seq FROM " + tables.outbox() + " WHERE sent_at IS NULL AND seq <= ? AND msg_key IN ("
                + "?,".repeat(list.size() - 1) + "?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, maxSeq);
            for (int i = 0; i < list.size(); i++) {
                ps.setString(i + 2, list.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byKey.computeIfAbsent(rs.getString(1), k -> new TreeSet<>()).add(rs.getLong(2));
                }
            }
        }
        return byKey;
    }

    public int markSent(Connection c, Collection<Long> seqs) throws SQLException {
        if (seqs.isEmpty()) {
            return 0;
        }
        String sql = "UPDATE " + tables.outbox() + " SET sent_at = CURRENT_TIMESTAMP WHERE sent_at IS NULL AND seq IN ("
                + "?,".repeat(seqs.size() - 1) + "?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            for (long seq : seqs) {
                ps.setLong(i++, seq);
            }
            return ps.executeUpdate();
        }
    }

    public long pending(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + tables.outbox() + " WHERE sent_at IS NULL");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Deletes rows sent more than {@code retentionSeconds} ago; returns how many. */
    public int purgeSent(Connection c, long retentionSeconds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + tables.outbox()
                + " WHERE sent_at IS NOT NULL AND sent_at < " + dialect.cutoffExpression)) {
            ps.setLong(1, retentionSeconds);
            return ps.executeUpdate();
        }
    }

    /** 1 when the row is new, 0 when this consumer already has this message id (see {@link OutboxDialect}). */
    public int insertInbox(Connection c, String consumer, String messageId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(String.format(dialect.inboxInsert, tables.inbox()))) {
            ps.setString(1, consumer);
            ps.setString(2, messageId);
            return ps.executeUpdate();
        }
    }
}
