package dev.xatm.core.participant;

/**
 * A branch the participant remembers: its one {@link BranchState} and where it lives. Owned by one
 * {@link Participant}; never shared, so not thread-safe.
 */
final class Tracked {
    final BranchKey key;
    /** Null for a branch known only from a phase command (run by xid where XA RECOVER finds it). */
    String resourceId;
    /** The coordinator node that serves it: the one it registered with, or the last to command it. */
    String server;
    BranchState state;
    /** When a coordinator last spoke of it (a command) or the agent last asked about it. */
    long lastHeardMillis;
    /** False until something was heard of it: a branch found by XA RECOVER is asked about at once. */
    boolean heard;

    Tracked(BranchKey key, String resourceId, String server, BranchState state) {
        this.key = key;
        this.resourceId = resourceId;
        this.server = server;
        this.state = state;
    }

    void heardAt(long nowMillis) {
        lastHeardMillis = nowMillis;
        heard = true;
    }

    @Override
    public String toString() {
        return key + "@" + resourceId + " " + state;
    }
}
