package dev.xatm.sample.order;

/** A request the service will not even try: 400. */
public class InvalidOrderException extends RuntimeException {
    public InvalidOrderException(String message) {
        super(message);
    }
}
