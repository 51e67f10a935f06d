package dev.xatm.core.participant;

/** The XA calls the participant core asks its driver to run. */
public enum XaOp {
    /** XA END with TMSUCCESS: the branch's work is complete. */
    END,
    /**
     * 3PC's CAN_COMMIT: first the health check (the connection still answers: {@code Connection.isValid}
     * with a short timeout), then XA END with TMSUCCESS. A failed check is reported as this call's
     * {@link XaResult#UNAVAILABLE} without running XA END, so the branch votes NO and is rolled back,
     * as a failing END would: CAN_COMMIT promises that PRE_COMMIT's XA PREPARE can succeed.
     */
    END_CHECKED,
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
