package dev.xatm.core.sim;

/** An XA branch as a database names it: gtrid and bqual. */
record BranchId(String gtrid, String bqual) {
    @Override
    public String toString() {
        return gtrid + "/" + bqual;
    }
}
