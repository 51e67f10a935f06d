package dev.xatm.client.coordinator;

/**
 * A branch this instance's agent ended and prepared (or finished read-only) before asking for the
 * commit: it rides on the commit request with its vote (one round trip).
 */
public record PreparedBranch(String bqual, String resourceId, Vote vote) {
    /**
     * The answers a prepare can give; NO never rides on a 2PC commit (the caller rolls back instead),
     * only on the second request of the cheap 3PC (a failed XA PREPARE after the PRE_COMMIT record).
     */
    public enum Vote { YES, READ_ONLY, NO }
}
