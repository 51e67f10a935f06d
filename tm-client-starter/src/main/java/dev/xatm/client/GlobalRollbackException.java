package dev.xatm.client;

/**
 * The method asked for a commit but the global transaction was rolled back instead: a branch voted
 * no, a local {@code rollback()} doomed it, or the coordinator no longer knew it (presumed abort).
 * Spring's counterpart is UnexpectedRollbackException.
 */
public class GlobalRollbackException extends TmException {
    public GlobalRollbackException(String message) {
        super(message);
    }
}
