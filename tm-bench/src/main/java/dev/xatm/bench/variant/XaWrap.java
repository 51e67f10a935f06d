package dev.xatm.bench.variant;

import org.postgresql.core.BaseConnection;
import org.postgresql.xa.PGXAConnection;

import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * The drivers' own XA classes over a connection borrowed from a HikariCP pool, exactly as the
 * starter enlists one (see tm-client-starter's PostgresDialect and MariaDbDialect), so the raw XA
 * and Narayana variants pay the same per-connection cost as ours.
 */
final class XaWrap {
    private XaWrap() {
    }

    static XAResource postgres(Connection pooled) throws SQLException {
        return new PGXAConnection(pooled.unwrap(BaseConnection.class)).getXAResource();
    }

    static XAResource mariadb(Connection pooled) throws SQLException {
        org.mariadb.jdbc.Connection physical = pooled.unwrap(org.mariadb.jdbc.Connection.class);
        org.mariadb.jdbc.MariaDbPoolConnection xa = new org.mariadb.jdbc.MariaDbPoolConnection(physical);
        // The constructor makes Connection.close() a mere event; undo it or the pool leaks sockets.
        physical.setPoolConnection(null);
        return xa.getXAResource();
    }

    /** A plain Xid for the raw XA variant (no transaction manager mints one there). */
    record SimpleXid(int getFormatId, byte[] getGlobalTransactionId, byte[] getBranchQualifier) implements Xid {
        static final int FORMAT_ID = 0x42454E43; // "BENC"

        static SimpleXid of(String gtrid, String bqual) {
            return new SimpleXid(FORMAT_ID, gtrid.getBytes(StandardCharsets.US_ASCII), bqual.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Xid x && x.getFormatId() == getFormatId
                    && Arrays.equals(x.getGlobalTransactionId(), getGlobalTransactionId)
                    && Arrays.equals(x.getBranchQualifier(), getBranchQualifier);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(getGlobalTransactionId) * 31 + Arrays.hashCode(getBranchQualifier);
        }
    }
}
