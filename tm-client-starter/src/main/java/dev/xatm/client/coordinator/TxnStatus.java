package dev.xatm.client.coordinator;

/**
 * What the coordinator knows of a global transaction right now ({@link CoordinatorAccess#status}),
 * named as on the wire. {@link #UNKNOWN}: no record of the gtrid (never begun, or long finished),
 * which reads as presumed aborted. {@link #UNSPECIFIED}: an answer this client does not know (a newer
 * server's state); treat it like any state that is not {@link #ACTIVE}.
 */
public enum TxnStatus {
    UNSPECIFIED, UNKNOWN, ACTIVE, PREPARING, COMMITTING, ASKING_CAN_COMMIT, PRE_COMMITTING, ROLLING_BACK,
    FINISHED_COMMITTED, FINISHED_ROLLED_BACK, FINISHED_HEURISTIC_HAZARD, FINISHED_HEURISTIC;

    /** The status a GetStatus answer carries; one this client has no constant for is {@link #UNSPECIFIED}. */
    public static TxnStatus of(dev.xatm.protocol.v1.TxnStatus wire) {
        for (TxnStatus s : values()) {
            if (s.name().equals(wire.name())) {
                return s;
            }
        }
        return UNSPECIFIED;
    }

    /** Whether the transaction still takes work and branches. */
    public boolean isActive() {
        return this == ACTIVE;
    }
}
