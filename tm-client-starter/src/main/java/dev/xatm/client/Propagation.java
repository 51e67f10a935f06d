package dev.xatm.client;

/**
 * How a method relates to a global transaction already bound to the calling thread; the same six
 * behaviours as Spring's {@code @Transactional}. The whole policy is the one method {@link #decide},
 * so the machinery has no propagation if-ladder of its own.
 */
public enum Propagation {
    /** Join the existing transaction, else begin one. The default. */
    REQUIRED,
    /** Always begin a new transaction, suspending an existing one until this one ends. */
    REQUIRES_NEW,
    /** Join the existing transaction, else run without one. */
    SUPPORTS,
    /** Run without a transaction, suspending an existing one. */
    NOT_SUPPORTED,
    /** Join the existing transaction; without one, fail. */
    MANDATORY,
    /** Run without a transaction; with one, fail. */
    NEVER;

    /** What the machinery does; see {@link #decide}. */
    public enum Step {
        JOIN,
        BEGIN,
        SUSPEND_AND_BEGIN,
        RUN_WITHOUT,
        SUSPEND_AND_RUN_WITHOUT,
        FAIL
    }

    /** The step to take given whether the calling thread already runs in a global transaction. */
    public Step decide(boolean existing) {
        return switch (this) {
            case REQUIRED -> existing ? Step.JOIN : Step.BEGIN;
            case REQUIRES_NEW -> existing ? Step.SUSPEND_AND_BEGIN : Step.BEGIN;
            case SUPPORTS -> existing ? Step.JOIN : Step.RUN_WITHOUT;
            case NOT_SUPPORTED -> existing ? Step.SUSPEND_AND_RUN_WITHOUT : Step.RUN_WITHOUT;
            case MANDATORY -> existing ? Step.JOIN : Step.FAIL;
            case NEVER -> existing ? Step.FAIL : Step.RUN_WITHOUT;
        };
    }

    /** The message of the {@link TmUsageException} thrown for {@link Step#FAIL}. */
    public String failureMessage() {
        return switch (this) {
            case MANDATORY -> "No existing global transaction found for a method marked with propagation MANDATORY";
            case NEVER -> "Existing global transaction found for a method marked with propagation NEVER";
            default -> throw new IllegalStateException(this + " never fails");
        };
    }
}
