package dev.xatm.coordinator.log;

/**
 * The transaction log cannot do what was asked: the directory is unusable or locked, a write or
 * fsync failed, or the log failed earlier and refuses appends. Unchecked, because no caller can
 * repair a disk; the engine stops acknowledging decisions and an operator has to look.
 */
public class TxnLogException extends RuntimeException {

    public TxnLogException(String message) {
        super(message);
    }

    public TxnLogException(String message, Throwable cause) {
        super(message, cause);
    }
}
