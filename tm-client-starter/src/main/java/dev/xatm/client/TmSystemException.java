package dev.xatm.client;

/**
 * The infrastructure failed: the coordinator is unreachable or refused us, a database could not run
 * an XA statement. When thrown by a commit the outcome may be unknown; the message says so.
 */
public class TmSystemException extends TmException {
    public TmSystemException(String message) {
        super(message);
    }

    public TmSystemException(String message, Throwable cause) {
        super(message, cause);
    }
}
