package dev.xatm.coordinator.engine;

import java.util.Locale;

/**
 * Named places in the driver where a test can make the server halt, as if killed there
 * ({@code tm.server.crash-point}, off by default). Each sits at a boundary that matters for
 * recovery, so an out-of-process test can kill the server exactly between two
 * durable facts and check that the restart converges.
 *
 * <p>The points are defined by what the driver sees (log appends, durable completions, acks), not
 * by protocol state: for three-phase commit the decision points are the same (its COMMIT decision
 * record), and it adds the two around its PRE_COMMIT record.
 */
public enum CrashPoint {
    /** All votes are in and a COMMIT decision is about to be handed to the log: nothing durable yet. */
    BEFORE_DECISION_LOG,
    /** 3PC: every CAN_COMMIT answer is YES and the PRE_COMMIT record is about to be handed to the log: nothing durable yet. */
    BEFORE_PRE_COMMIT_LOG,
    /** 3PC: the PRE_COMMIT record is durable and no PRE_COMMIT has gone out for it yet. */
    AFTER_PRE_COMMIT_LOG,
    /** The decision record is durable, and no COMMIT has gone out for it yet. */
    AFTER_DECISION_LOG,
    /** One branch acknowledged its COMMIT while another of the same transaction still has not. */
    MID_PHASE_2;

    /** The property's spelling: {@code before-decision-log}, ... */
    public String propertyValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a property value; blank means none. A typo fails the start, so a test never runs unarmed. */
    public static CrashPoint parse(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        for (CrashPoint p : values()) {
            if (p.propertyValue().equals(value.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        StringBuilder known = new StringBuilder();
        for (CrashPoint p : values()) {
            known.append(known.length() == 0 ? "" : ", ").append(p.propertyValue());
        }
        throw new IllegalArgumentException("tm.server.crash-point must be one of " + known + " (or empty), got '" + value + "'");
    }
}
