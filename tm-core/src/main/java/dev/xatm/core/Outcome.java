package dev.xatm.core;

/** How a global transaction ended, as reported to the code that asked for the commit. */
public enum Outcome {
    COMMITTED,
    ROLLED_BACK,
    /** Rolled back because the global deadline passed before a commit decision. */
    TIMED_OUT,
    /** A one-phase commit whose branch never answered: the outcome is unknown and needs an operator. */
    HEURISTIC_HAZARD
}
