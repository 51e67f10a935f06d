package dev.xatm.client.enlist;

import com.mysql.cj.jdbc.JdbcConnection;
import com.mysql.cj.jdbc.MysqlXAConnection;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * MySQL (or MariaDB) through mysql-connector-j. {@code new MysqlXAConnection(JdbcConnection, false)}
 * is Connector/J's public XAConnection over an existing connection; it is its own XAResource
 * (prepare always XA_OK, forget a no-op, no timeouts).
 */
final class MySqlDialect implements XaDialect {
    @Override
    public String name() {
        return "MySQL";
    }

    @Override
    public XAResource xaResource(Connection pooled) throws SQLException {
        return new MysqlXAConnection(pooled.unwrap(JdbcConnection.class), false).getXAResource();
    }

    /**
     * MySQL 8.0.29+ detaches at PREPARE by default, earlier versions and MariaDB do not.
     * Without asking the server we assume the stricter behaviour.
     */
    /** Nothing to ask the server whether a branch wrote (see {@link XaDialect#readOnlyVoteNeedsOptIn}). */
    @Override
    public boolean readOnlyVoteNeedsOptIn() {
        return true;
    }

    @Override
    public boolean preparedBranchBoundToSession() {
        return true;
    }

    @Override
    public void checkServer(Connection c, String resource) throws SQLException {
        MySqlFamily.check(c, resource);
    }
}
