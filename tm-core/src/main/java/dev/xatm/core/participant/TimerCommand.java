package dev.xatm.core.participant;

/**
 * A timer of three-phase commit's participant side. The core has no clock: it asks the driver to arm
 * a timer and hears {@link ParticipantEvent.TimerFired} with the same token when it runs out. A fired
 * timer whose token is no longer the branch's armed one is ignored, so a late firing is harmless.
 */
public sealed interface TimerCommand {
    BranchKey key();

    long token();

    /** Fire {@code afterMillis} from now on the driver's clock. */
    record Arm(BranchKey key, long token, long afterMillis) implements TimerCommand {}

    /** The timer is no longer needed (the command it waited for came); firing it anyway is harmless. */
    record Cancel(BranchKey key, long token) implements TimerCommand {}
}
