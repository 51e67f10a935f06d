package dev.xatm.client.enlist;

import javax.transaction.xa.XAResource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * What we need to know about one database and its JDBC driver to run XA branches on it. One
 * implementation per database; each capability says which database behaviour it rests on.
 *
 * <p>Implementations are stateless and thread-safe, and reference their driver's classes only from
 * their own class, so a driver that is not on the classpath is never loaded.
 */
public interface XaDialect {
    /** Human name for messages: "PostgreSQL". */
    String name();

    /**
     * The driver's own XAResource over the physical connection behind {@code pooled} (a connection
     * borrowed from the application's pool). Must not take the connection away from the pool: the
     * caller gives {@code pooled} back when the branch ends. The returned resource's XAConnection is
     * never closed, because closing it would close the physical connection under the pool.
     */
    XAResource xaResource(Connection pooled) throws SQLException;

    /**
     * True when a prepared branch stays bound to the session that prepared it, so another session
     * gets XAER_NOTA for it while that one lives (MariaDB, MySQL before
     * 8.0.29). The agent always commits on the preparing connection; this tells recovery how to read
     * XAER_NOTA on a different connection.
     */
    boolean preparedBranchBoundToSession();

    /**
     * Refuses a database on which prepared branches would not be durable or XA cannot run, with an
     * actionable message. {@code resource} names the
     * data source in the message.
     */
    void checkServer(Connection c, String resource) throws SQLException;

    /**
     * The database's own word, where it has one, that the branch on {@code branchConnection} wrote
     * nothing; asked at PREPARE, before XA END, only when the branch's statements were all plain
     * queries. True means "no objection": a database without such a check trusts the statement
     * tracking. Must not fail the branch: on any doubt answer false (the branch then prepares as
     * usual).
     */
    default boolean confirmsNothingWritten(Connection branchConnection) {
        return true;
    }

    /**
     * Whether a branch on this database may vote READ_ONLY only when the application asked for it
     * ({@code tm.client.read-only-votes-on-mysql}). True where the statement text is all there is to go
     * on and the database cannot confirm it ({@link #confirmsNothingWritten} has nothing to ask): a
     * SELECT calling a stored function that writes looks exactly like one calling a builtin, and a
     * wrong READ_ONLY vote commits that write before the global decision, even when it is a rollback.
     */
    default boolean readOnlyVoteNeedsOptIn() {
        return false;
    }
}
