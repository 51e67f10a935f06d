package dev.xatm.sample.order;

/**
 * What one {@link PlaceOrder#place} call got to, so a failure can be reported truthfully. An
 * exception before the body ran, or while it ran, means commit was never asked: nothing is written
 * (the coordinator presumes abort). Only an exception after the body finished (while committing)
 * can leave the outcome to the coordinator. One thread, one request: no synchronisation.
 */
final class Attempt {
    String xid;
    boolean bodyFinished;
}
