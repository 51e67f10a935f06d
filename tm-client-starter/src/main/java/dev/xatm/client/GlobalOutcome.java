package dev.xatm.client;

/** How a global transaction ended, as the coordinator reports it. */
public enum GlobalOutcome {
    COMMITTED,
    ROLLED_BACK,
    /** Rolled back because its deadline passed before a commit decision. */
    TIMED_OUT,
    /** A one-phase commit got no answer: unknown, needs an operator. */
    HEURISTIC_HAZARD
}
