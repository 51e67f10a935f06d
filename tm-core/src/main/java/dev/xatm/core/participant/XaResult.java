package dev.xatm.core.participant;

/**
 * What an XA call did, as the driver classifies the XAException (or its absence). The participant
 * core decides from this alone; the driver never decides what an outcome means for the protocol.
 */
public enum XaResult {
    OK,
    /** XA_RB*: the database rolled the branch back (a failed PREPARE or one-phase commit). */
    ROLLED_BACK,
    /**
     * XAER_NOTA, and XA RECOVER does not list the xid either. A database that binds a prepared branch
     * to its session (MariaDB) answers XAER_NOTA from another connection while that session lives:
     * the driver must report that case as {@link #UNAVAILABLE}, never as this.
     */
    NOT_FOUND,
    /** XAER_RMFAIL, a lost connection or any answer that leaves the outcome unknown: try again later. */
    UNAVAILABLE,
    /** Any other error (XAER_RMERR, XAER_PROTO, ...): the call did not do what was asked. */
    FAILED,
    HEURISTIC_COMMIT,
    HEURISTIC_ROLLBACK,
    HEURISTIC_MIXED,
    HEURISTIC_HAZARD;

    public boolean isHeuristic() {
        return this == HEURISTIC_COMMIT || this == HEURISTIC_ROLLBACK || this == HEURISTIC_MIXED || this == HEURISTIC_HAZARD;
    }
}
