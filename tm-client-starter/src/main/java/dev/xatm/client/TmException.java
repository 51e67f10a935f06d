package dev.xatm.client;

/**
 * Root of every exception the starter throws. Unchecked, like Spring's TransactionException: the
 * caller rarely can do more than let it propagate, and business signatures stay clean.
 */
public class TmException extends RuntimeException {
    public TmException(String message) {
        super(message);
    }

    public TmException(String message, Throwable cause) {
        super(message, cause);
    }
}
