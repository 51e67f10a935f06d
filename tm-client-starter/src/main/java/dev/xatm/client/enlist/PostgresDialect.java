package dev.xatm.client.enlist;

import dev.xatm.client.TmUsageException;
import org.postgresql.core.BaseConnection;
import org.postgresql.xa.PGXAConnection;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * PostgreSQL through pgjdbc. {@code new PGXAConnection(BaseConnection)} is pgjdbc's public way to
 * run XA on an existing physical connection; its XAResource is the connection itself (* no interleaving, prepare and one-phase commit on the starting connection, no RDONLY vote).
 */
final class PostgresDialect implements XaDialect {
    @Override
    public String name() {
        return "PostgreSQL";
    }

    @Override
    public XAResource xaResource(Connection pooled) throws SQLException {
        return new PGXAConnection(pooled.unwrap(BaseConnection.class)).getXAResource();
    }

    /** COMMIT PREPARED runs from any session, even while the preparing one lives. */
    @Override
    public boolean preparedBranchBoundToSession() {
        return false;
    }

    /** max_prepared_transactions = 0 disables PREPARE TRANSACTION and hides until a 2nd branch. */
    @Override
    public void checkServer(Connection c, String resource) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW max_prepared_transactions")) {
            rs.next();
            int n = Integer.parseInt(rs.getString(1).trim());
            if (n <= 0) {
                throw new TmUsageException("Data source '" + resource + "' is PostgreSQL with max_prepared_transactions = " + n
                        + ", which disables PREPARE TRANSACTION, so no global transaction with two branches could commit. "
                        + "Set max_prepared_transactions in postgresql.conf to at least max_connections and restart PostgreSQL "
                        + "(or set tm.client.startup-check=false to skip this check).");
            }
        }
    }

    /**
     * PostgreSQL assigns a transaction id at the first write (and at a row lock), so "no id yet"
     * proves the branch wrote nothing, whatever its statements looked like (a SELECT calling a
     * function that writes, a statement run through ResultSet.getStatement()). PostgreSQL 10 and
     * later; an older server is not asked, because a failing query would abort the branch.
     */
    @Override
    public boolean confirmsNothingWritten(Connection c) {
        try {
            if (c.getMetaData().getDatabaseMajorVersion() < 10) {
                return false;
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT txid_current_if_assigned() IS NULL")) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return false;
        }
    }
}
