package dev.xatm.core.participant;

/** The XA calls the participant core asks its driver to run. */
public enum XaOp {
    /** XA END with TMSUCCESS: the branch's work is complete. */
    END,
    /**
     * XA END with TMFAIL, before rolling back a branch still active. Its failure never matters (the
     * branch was ended already, or its connection is gone and the database rolls it back anyway), so a
     * driver ignores it and runs the next call.
     */
    END_FAIL,
    PREPARE,
    /** Two-phase XA COMMIT of a prepared branch, on the preparing connection or by xid on any. */
    COMMIT,
    /** XA COMMIT ... ONE PHASE of an ended branch. */
    COMMIT_ONE_PHASE,
    ROLLBACK,
    /** XA RECOVER on one resource: the driver feeds the listing back as {@link ParticipantEvent.Recovered}. */
    RECOVER
}
