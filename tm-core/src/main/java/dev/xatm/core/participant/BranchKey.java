package dev.xatm.core.participant;

import java.util.Objects;

/** An XA branch as a database names it: gtrid and bqual. Immutable. */
public record BranchKey(String gtrid, String bqual) {
    public BranchKey {
        Objects.requireNonNull(gtrid, "gtrid");
        Objects.requireNonNull(bqual, "bqual");
    }

    @Override
    public String toString() {
        return gtrid + "/" + bqual;
    }
}
