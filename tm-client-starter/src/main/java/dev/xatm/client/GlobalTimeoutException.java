package dev.xatm.client;

/**
 * The global transaction's deadline passed: it is (or is being) rolled back. Thrown by the first
 * database call after the deadline and by the end of the {@code @GlobalTransactional} method.
 */
public class GlobalTimeoutException extends TmException {
    public GlobalTimeoutException(String message) {
        super(message);
    }
}
