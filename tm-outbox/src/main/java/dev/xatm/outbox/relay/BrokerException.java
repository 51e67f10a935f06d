package dev.xatm.outbox.relay;

/** The broker did not confirm a batch: it is down, refused, nacked, returned or timed out. */
public class BrokerException extends Exception {
    public BrokerException(String message, Throwable cause) {
        super(message, cause);
    }

    public BrokerException(String message) {
        super(message);
    }
}
