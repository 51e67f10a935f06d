package dev.xatm.client;

/** The caller used the API wrongly (propagation violated, unsupported database, 3PC asked for, ...). */
public class TmUsageException extends TmException {
    public TmUsageException(String message) {
        super(message);
    }

    public TmUsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
