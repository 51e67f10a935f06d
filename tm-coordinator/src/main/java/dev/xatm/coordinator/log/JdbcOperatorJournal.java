package dev.xatm.coordinator.log;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Operator actions of the JDBC store, in the {@code <prefix>operator_action} table (a Flyway migration
 * of its own, so a store created before it only gains a table). Every server sharing the store sees
 * every action, whichever server took it. Thread-safe: each call borrows a pooled connection, and an
 * insert in auto-commit mode is durable when it returns.
 */
final class JdbcOperatorJournal implements OperatorJournal {
    private final DataSource dataSource;
    private final String insert;
    private final String select;

    JdbcOperatorJournal(DataSource dataSource, String prefix) {
        this.dataSource = dataSource;
        this.insert = "INSERT INTO " + prefix + "operator_action (xid, at_millis, operator, role, action, result, reason)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)";
        this.select = "SELECT at_millis, operator, role, action, result, reason FROM " + prefix + "operator_action"
                + " WHERE xid = ? ORDER BY id";
    }

    @Override
    public void record(OperatorAction a) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(insert)) {
            c.setAutoCommit(true);
            s.setString(1, a.gtrid());
            s.setLong(2, a.atEpochMillis());
            s.setString(3, a.operator());
            s.setString(4, a.role());
            s.setString(5, a.action());
            s.setString(6, a.result());
            s.setString(7, a.reason());
            s.executeUpdate();
        } catch (SQLException e) {
            throw new TxnLogException("cannot record the operator action on " + a.gtrid() + " in the JDBC store: " + e.getMessage(), e);
        }
    }

    @Override
    public List<OperatorAction> of(String gtrid) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(select)) {
            s.setString(1, gtrid);
            List<OperatorAction> found = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    found.add(new OperatorAction(gtrid, r.getLong(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                            r.getString(6)));
                }
            }
            return found;
        } catch (SQLException e) {
            throw new TxnLogException("cannot read the operator actions on " + gtrid + " from the JDBC store: " + e.getMessage(), e);
        }
    }
}
