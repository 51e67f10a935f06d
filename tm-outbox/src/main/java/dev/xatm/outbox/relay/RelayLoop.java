package dev.xatm.outbox.relay;

import dev.xatm.outbox.store.OutboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * Drives one {@link Relay} on its own daemon thread: passes back to back while batches come out
 * full, a poll interval's pause when the outbox is drained, a {@link Backoff} after a failure (the
 * rows stay in the table, so a broker outage only delays them). Every few seconds it also counts
 * the backlog and purges rows sent longer ago than the retention. Thread-safe start/stop.
 */
public final class RelayLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RelayLoop.class);

    /** Timing of the loop. */
    public record Settings(long pollIntervalMillis, long countIntervalMillis, long purgeIntervalMillis, long retentionSeconds) {}

    private final Relay relay;
    private final DataSource dataSource;
    private final OutboxStore store;
    private final Backoff backoff;
    private final Settings settings;
    private final Object wake = new Object();
    private volatile RelayStatus status;
    private volatile boolean running;
    private Thread thread;

    public RelayLoop(Relay relay, DataSource dataSource, OutboxStore store, Backoff backoff, Settings settings) {
        this.relay = relay;
        this.dataSource = dataSource;
        this.store = store;
        this.backoff = backoff;
        this.settings = settings;
        this.status = new RelayStatus(relay.name(), 0, null, -1, 0);
    }

    public RelayStatus status() {
        return status;
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "xatm-outbox-relay-" + relay.name());
        thread.setDaemon(true);
        thread.start();
    }

    /** Ends the poll pause early (a new row was published here). */
    public void nudge() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void run() {
        int failures = 0;
        long nextCount = 0;
        long nextPurge = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.purgeIntervalMillis());
        while (running) {
            long pause;
            try {
                Relay.Pass pass = relay.runOnce();
                if (failures > 0) {
                    log.info("outbox relay '{}' works again after {} failed pass(es)", relay.name(), failures);
                }
                failures = 0;
                status = new RelayStatus(relay.name(), 0, null, status.pending(), System.currentTimeMillis());
                // a full batch means there is probably more; rows held back wait for another relay's commit
                pause = pass.claimed() == relay.batchSize() && pass.heldBack() == 0 ? 0 : settings.pollIntervalMillis();
                long now = System.nanoTime();
                if (now - nextCount >= 0) {
                    nextCount = now + TimeUnit.MILLISECONDS.toNanos(settings.countIntervalMillis());
                    count();
                }
                if (now - nextPurge >= 0) {
                    nextPurge = now + TimeUnit.MILLISECONDS.toNanos(settings.purgeIntervalMillis());
                    purge();
                }
            } catch (Exception e) {
                failures++;
                relay.failed(e);
                pause = backoff.delayMillis(failures);
                String message = e.getClass().getSimpleName() + ": " + e.getMessage();
                status = new RelayStatus(relay.name(), failures, message, status.pending(), status.lastSuccessMillis());
                if (failures == 1 || failures % 20 == 0) {
                    log.warn("outbox relay '{}' pass failed ({} in a row), retrying in {} ms: {}", relay.name(), failures, pause, message);
                }
            }
            sleep(pause);
        }
    }

    private void count() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            long pending = store.pending(c);
            RelayStatus s = status;
            status = new RelayStatus(s.dataSource(), s.consecutiveFailures(), s.lastError(), pending, s.lastSuccessMillis());
        }
    }

    private void purge() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            int purged = store.purgeSent(c, settings.retentionSeconds());
            if (purged > 0) {
                log.debug("outbox relay '{}' purged {} sent row(s)", relay.name(), purged);
            }
        }
    }

    private void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        synchronized (wake) {
            try {
                wake.wait(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
