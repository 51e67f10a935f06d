package dev.xatm.core;

/** A branch's answer to PREPARE. */
public enum Vote {
    YES,
    NO,
    /** The branch wrote nothing; its agent finished it already and it is left out of phase 2. */
    READ_ONLY
}
