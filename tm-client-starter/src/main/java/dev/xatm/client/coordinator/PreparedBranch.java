package dev.xatm.client.coordinator;

/**
 * A branch this instance's agent ended and prepared (or finished read-only) before asking for the
 * commit: it rides on the commit request with its vote (one round trip).
 */
public record PreparedBranch(String bqual, String resourceId, Vote vote) {
    /** The answers a prepare can give; NO never rides on a commit (the caller rolls back instead). */
    public enum Vote { YES, READ_ONLY }
}
