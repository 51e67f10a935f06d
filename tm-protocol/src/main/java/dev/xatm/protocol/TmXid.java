package dev.xatm.protocol;

import javax.transaction.xa.Xid;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Pattern;

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
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final String gtrid;
    private final String bqual;

    public TmXid(String gtrid, String bqual) {
        if (gtrid == null || !ID.matcher(gtrid).matches()) {
            throw new IllegalArgumentException("invalid gtrid: must be 1..64 characters of [A-Za-z0-9._:-]");
        }
        if (bqual == null || !ID.matcher(bqual).matches()) {
            throw new IllegalArgumentException("invalid bqual: must be 1..64 characters of [A-Za-z0-9._:-]");
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
        if (!ID.matcher(g).matches() || !ID.matcher(b).matches()) {
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
