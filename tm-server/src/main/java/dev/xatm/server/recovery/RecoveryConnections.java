package dev.xatm.server.recovery;

import dev.xatm.core.Action;
import dev.xatm.protocol.TmXid;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.xa.PGXADataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The server's own XA connections to the configured {@link RecoveryResources}: it finishes a
 * prepared branch (COMMIT or ROLLBACK by xid) when the agent that held it is gone. The caller (the
 * admin API, for an operator's forced resolution) decides which command is right; the core only
 * accepts an acknowledgement for the command it is waiting for, so a wrong one changes nothing.
 *
 * <p>XAER_NOTA is not trusted on its own: MariaDB and MySQL before 8.0.29 answer
 * it while another, still open session holds the prepared branch. The branch counts as finished
 * only if XA RECOVER no longer lists it afterwards.
 *
 * <p>Thread-safe: every call opens and closes its own connection. Credentials never reach a log line
 * or a message: errors are reported by their XA error code or SQL state.
 */
public final class RecoveryConnections {
    private static final Logger log = LoggerFactory.getLogger(RecoveryConnections.class);
    private static final int LOGIN_TIMEOUT_SECONDS = 5;

    private final RecoveryResources resources;

    public RecoveryConnections(RecoveryResources resources) {
        this.resources = resources;
        if (!resources.resources().isEmpty()) {
            log.info("Recovery connections configured for resources {}", resources.resources().keySet());
        }
    }

    public boolean has(String resourceId) {
        return resources.resources().containsKey(resourceId);
    }

    /** The outcome of one attempt, for the operator's answer and the log. */
    public record Attempt(boolean done, String detail) {}

    /** Runs COMMIT or ROLLBACK of {@code gtrid/bqual} on the resource; done means it is no longer prepared there. */
    public Attempt complete(String resourceId, String gtrid, String bqual, Action action) {
        RecoveryResources.Resource r = resources.resources().get(resourceId);
        if (r == null) {
            return new Attempt(false, "no recovery connection is configured for " + resourceId);
        }
        if (action != Action.COMMIT && action != Action.ROLLBACK) {
            throw new IllegalArgumentException("only COMMIT or ROLLBACK of a prepared branch, got " + action);
        }
        TmXid xid = new TmXid(gtrid, bqual);
        try {
            XAConnection c = dataSource(r).getXAConnection();
            try {
                XAResource xa = c.getXAResource();
                try {
                    if (action == Action.COMMIT) {
                        xa.commit(xid, false);
                    } else {
                        xa.rollback(xid);
                    }
                    return new Attempt(true, action + " done through the server's recovery connection to " + resourceId);
                } catch (XAException e) {
                    if (e.errorCode != XAException.XAER_NOTA) {
                        return new Attempt(false, action + " on " + resourceId + " failed with XA error " + e.errorCode);
                    }
                    if (stillPrepared(xa, xid)) {
                        return new Attempt(false, resourceId + " answered XAER_NOTA but still lists the branch as prepared"
                                + " (another session holds it)");
                    }
                    return new Attempt(true, "the branch is no longer prepared on " + resourceId + " (XAER_NOTA, not in XA RECOVER)");
                }
            } finally {
                c.close();
            }
        } catch (XAException | SQLException e) {
            String why = e instanceof SQLException sql ? "SQL state " + sql.getSQLState() : "XA error " + ((XAException) e).errorCode;
            log.warn("Recovery connection to {} failed ({}) for {}/{}", resourceId, why, gtrid, bqual);
            return new Attempt(false, "could not reach " + resourceId + " (" + why + ")");
        }
    }

    private static boolean stillPrepared(XAResource xa, TmXid xid) throws XAException {
        Xid[] prepared = xa.recover(XAResource.TMSTARTRSCAN | XAResource.TMENDRSCAN);
        for (Xid x : prepared) {
            Optional<TmXid> ours = TmXid.parse(x);
            if (ours.isPresent() && ours.get().equals(xid)) {
                return true;
            }
        }
        return false;
    }

    private static XADataSource dataSource(RecoveryResources.Resource r) throws SQLException {
        if (r.isPostgres()) {
            PGXADataSource ds = new PGXADataSource();
            ds.setUrl(r.url());
            ds.setUser(r.username());
            ds.setPassword(r.password());
            ds.setLoginTimeout(LOGIN_TIMEOUT_SECONDS);
            return ds;
        }
        String url = r.url().startsWith("jdbc:mysql:") ? "jdbc:mariadb:" + r.url().substring("jdbc:mysql:".length()) : r.url();
        MariaDbDataSource ds = new MariaDbDataSource(url);
        ds.setUser(r.username());
        ds.setPassword(r.password());
        ds.setLoginTimeout(LOGIN_TIMEOUT_SECONDS);
        return ds;
    }
}
