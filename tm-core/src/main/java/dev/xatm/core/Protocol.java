package dev.xatm.core;

/** The atomic commit protocol a global transaction runs, chosen at Begin. */
public enum Protocol {
    /** Two-phase commit, presumed abort: PREPARE, a durable COMMIT decision, COMMIT. */
    TWO_PHASE("2PC"),
    /**
     * Three-phase commit: CAN_COMMIT (a question), a durable PRE_COMMIT record then PRE_COMMIT (XA
     * PREPARE), a durable COMMIT decision then COMMIT. Participants time out on their own: after a
     * YES to CAN_COMMIT without PRE_COMMIT they roll back, after acknowledging PRE_COMMIT without
     * a decision they commit.
     */
    THREE_PHASE("3PC");

    /** How the admin API and the metrics name it. */
    public final String label;

    Protocol(String label) {
        this.label = label;
    }
}
