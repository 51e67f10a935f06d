package dev.xatm.core;

/**
 * The four timeouts of three-phase commit, in milliseconds of the driver's clock.
 *
 * @param canCommitMillis             the coordinator waits this long for every CAN_COMMIT answer; a
 *                                    missing one aborts
 * @param preCommitMillis             the coordinator waits this long for every PRE_COMMIT answer; a
 *                                    missing one aborts
 * @param participantCanCommitMillis  a participant that answered YES to CAN_COMMIT rolls its branch
 *                                    back if no PRE_COMMIT (or abort) reaches it within this long
 * @param participantPreCommitMillis  a participant that acknowledged PRE_COMMIT commits its branch on
 *                                    its own if no decision reaches it within this long
 */
public record ThreePhaseTimeouts(long canCommitMillis, long preCommitMillis,
                                 long participantCanCommitMillis, long participantPreCommitMillis) {

    public static ThreePhaseTimeouts defaults() {
        return new ThreePhaseTimeouts(10_000, 10_000, 30_000, 30_000);
    }

    public ThreePhaseTimeouts {
        positive("canCommitMillis", canCommitMillis);
        positive("preCommitMillis", preCommitMillis);
        positive("participantCanCommitMillis", participantCanCommitMillis);
        positive("participantPreCommitMillis", participantPreCommitMillis);
        // The whole safety argument of 3PC without partitions: when the coordinator gives up on a
        // missing PRE_COMMIT answer and aborts, its ROLLBACK must reach every participant that did
        // answer before that participant's own timer commits the branch. So the participant must
        // wait strictly longer than the coordinator (and the margin is what message delay may cost).
        if (participantPreCommitMillis <= preCommitMillis) {
            throw new IllegalArgumentException("participantPreCommitMillis (" + participantPreCommitMillis
                    + ") must be greater than preCommitMillis (" + preCommitMillis + "): a participant that commits on its"
                    + " own before the coordinator gives up would commit what the coordinator then aborts");
        }
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
