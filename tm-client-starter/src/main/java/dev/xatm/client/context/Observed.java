package dev.xatm.client.context;

/**
 * One observed piece of a global transaction's work (the transaction, its commit round trip, one
 * branch's XA command), current on the opening thread until closed, so that what runs inside it
 * (JDBC, HTTP calls carrying TM-XID) becomes its child in the application's trace. The starter's
 * Micrometer support backs it with an Observation; without one it is {@link #NONE}. Close it on the
 * thread that opened it, in try-with-resources.
 */
public interface Observed extends AutoCloseable {
    Observed NONE = new Observed() {
        @Override
        public void failed(Throwable error) {}

        @Override
        public void close() {}
    };

    /** The work failed with {@code error} (recorded on the span; the caller still throws it). */
    void failed(Throwable error);

    @Override
    void close();
}
