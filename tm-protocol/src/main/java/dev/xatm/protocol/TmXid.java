package dev.xatm.protocol;

import dev.xatm.core.Ids;

import javax.transaction.xa.Xid;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The XA Xid of one branch of one of our global transactions: our {@link #FORMAT_ID}, the gtrid and
 * the bqual as ASCII bytes.
 *
 * <p>The format id is how recovery tells our prepared branches from everybody else's: XA RECOVER
 * lists every prepared transaction on the database server, and
 * foreign ones must never be touched. It fits in 4 bytes, which MariaDB requires with the binlog on.
 */
public final class TmXid implements Xid {
    /** "XTM1" in ASCII. */
    public static final int FORMAT_ID = 0x58544D31;
    /** The longest gtrid or bqual: MySQL and MariaDB take at most 64 bytes for each. */
    public static final int MAX_ID_LENGTH = Ids.MAX_ID_BYTES;
    /** A gtrid or bqual as a regular expression (the grammar is tm-core's {@link Ids}, written once). */
    public static final String ID_REGEX = Ids.ID_REGEX;
    /** The grammar in words, for error messages. */
    public static final String ID_GRAMMAR = Ids.ID_GRAMMAR;

    private final String gtrid;
    private final String bqual;

    public TmXid(String gtrid, String bqual) {
        if (!Ids.isValidId(gtrid)) {
            throw new IllegalArgumentException("invalid gtrid: must be " + ID_GRAMMAR);
        }
        if (!Ids.isValidId(bqual)) {
            throw new IllegalArgumentException("invalid bqual: must be " + ID_GRAMMAR);
        }
        this.gtrid = gtrid;
        this.bqual = bqual;
    }

    /**
     * Reads back an Xid found by XA RECOVER. Empty when it is not one of ours (another format id, or
     * bytes our grammar could not have produced), so the caller leaves it alone.
     */
    public static Optional<TmXid> parse(Xid xid) {
        if (xid == null || xid.getFormatId() != FORMAT_ID) {
            return Optional.empty();
        }
        String g = new String(xid.getGlobalTransactionId(), StandardCharsets.US_ASCII);
        String b = new String(xid.getBranchQualifier(), StandardCharsets.US_ASCII);
        if (!Ids.isValidId(g) || !Ids.isValidId(b)) {
            return Optional.empty();
        }
        return Optional.of(new TmXid(g, b));
    }

    public String gtrid() {
        return gtrid;
    }

    public String bqual() {
        return bqual;
    }

    @Override
    public int getFormatId() {
        return FORMAT_ID;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return gtrid.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public byte[] getBranchQualifier() {
        return bqual.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o instanceof TmXid mine) {
            // the common case (map keys, sets): no byte arrays to encode
            return gtrid.equals(mine.gtrid) && bqual.equals(mine.bqual);
        }
        if (!(o instanceof Xid other)) {
            return false;
        }
        return other.getFormatId() == FORMAT_ID
                && Arrays.equals(other.getGlobalTransactionId(), getGlobalTransactionId())
                && Arrays.equals(other.getBranchQualifier(), getBranchQualifier());
    }

    @Override
    public int hashCode() {
        return 31 * gtrid.hashCode() + bqual.hashCode();
    }

    @Override
    public String toString() {
        return gtrid + "/" + bqual;
    }
}
