package dev.xatm.client;

/** Which atomic commit protocol the coordinator runs for a global transaction. */
public enum CommitProtocol {
    /** Two-phase commit, presumed abort (SPEC §2). */
    TWO_PHASE,
    /** Three-phase commit (SPEC §2). Not available yet: asking for it fails before anything starts. */
    THREE_PHASE
}
