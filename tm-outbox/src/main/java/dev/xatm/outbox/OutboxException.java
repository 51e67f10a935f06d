package dev.xatm.outbox;

/** The outbox or inbox table could not be written (a database failure, not a usage error). */
public class OutboxException extends RuntimeException {
    public OutboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
