package dev.xatm.outbox.relay;

/** What a relay pass reports, for metrics. {@link #NONE} ignores it. Called on the relay's thread. */
public interface RelayObserver {
    RelayObserver NONE = new RelayObserver() {};

    /** One message confirmed by the broker and marked sent, {@code lagMillis} after it was written. */
    default void sent(String dataSource, long lagMillis) {}

    /** A pass failed (it will be retried after a backoff). */
    default void failed(String dataSource, Exception e) {}
}
