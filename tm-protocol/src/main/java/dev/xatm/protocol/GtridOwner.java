package dev.xatm.protocol;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The owner a gtrid names: the tm-server node and the epoch (lease incarnation) of that node that
 * alone may decide it (docs/ha.md, rule R2). Only servers on a shared JDBC store have node ids; there a
 * client mints every gtrid for one server it is connected to, by appending {@code ":<node>.<epoch>"}
 * (epoch in base 36) to the gtrid it would mint anyway:
 *
 * <pre>  xatm:qteq71by.mwte7qo4.1f:2.5   = prefix "xatm", unique part, owner node 2, epoch 5</pre>
 *
 * <p>Why in the gtrid: any server, and the agent's XA RECOVER path, can then answer for any prepared
 * branch (rule R4) from the branch's xid alone: a decision row decides; no row while the owner's
 * epoch has moved on means ABORT forever, because the owner's insert is fenced on that epoch; no row
 * while the owner is still live means "ask the owner". A gtrid without the tag (the file store: one
 * server) has no owner here and is the single server's.
 *
 * <p>The prefix (tm.client.gtrid-prefix) holds no ':', so the tag is recognised as a second ':'
 * followed by digits, '.', base-36 digits, at the end.
 */
public record GtridOwner(int nodeId, long epoch) {
    /** Node ids are SMALLINT on the store. */
    public static final int MAX_NODE_ID = 32_767;
    private static final Pattern TAGGED = Pattern.compile("^[^:]*:[^:]*:([0-9]{1,5})\\.([0-9a-z]{1,13})$");

    public GtridOwner {
        if (nodeId < 1 || nodeId > MAX_NODE_ID) {
            throw new IllegalArgumentException("node id must be 1.." + MAX_NODE_ID + ", got " + nodeId);
        }
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be positive, got " + epoch);
        }
    }

    /** The owner named by {@code gtrid}, or empty for a gtrid without the tag (or one we did not mint). */
    public static Optional<GtridOwner> of(String gtrid) {
        // Most gtrids carry no tag (one server on the file store): two ':' at least, or it cannot be
        // one, before the regex runs (this is called several times per transaction).
        int first = gtrid == null ? -1 : gtrid.indexOf(':');
        if (first < 0 || gtrid.indexOf(':', first + 1) < 0) {
            return Optional.empty();
        }
        Matcher m = TAGGED.matcher(gtrid);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            int node = Integer.parseInt(m.group(1));
            long epoch = Long.parseLong(m.group(2), 36);
            if (node < 1 || node > MAX_NODE_ID || epoch < 1) {
                return Optional.empty();
            }
            return Optional.of(new GtridOwner(node, epoch));
        } catch (NumberFormatException e) {
            return Optional.empty(); // an epoch beyond a long: not one we minted
        }
    }

    /** {@code gtrid} with this owner's tag appended; the caller keeps the result within 64 characters. */
    public String tag(String gtrid) {
        return gtrid + ":" + nodeId + "." + Long.toString(epoch, 36);
    }

    @Override
    public String toString() {
        return "node " + nodeId + " (epoch " + epoch + ")";
    }
}
