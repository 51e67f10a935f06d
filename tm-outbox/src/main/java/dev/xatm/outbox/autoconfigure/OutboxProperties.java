package dev.xatm.outbox.autoconfigure;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.util.ArrayList;
import java.util.List;

/** {@code tm.outbox.*}: the transactional outbox, its relay and the inbox. */
@ConfigurationProperties("tm.outbox")
public class OutboxProperties {
    /** Switches the outbox on (off by default: it needs a broker for the relay). */
    private boolean enabled;
    /**
     * Bean names of the data sources that get the outbox and inbox tables and a relay; the first is
     * the default of Outbox and Inbox. Empty: the application's only DataSource bean.
     */
    private List<String> dataSources = new ArrayList<>();
    /** Prefix of the tables (outbox, inbox, outbox_schema_history). */
    private String tablePrefix = "xatm_";
    private final Relay relay = new Relay();

    public static class Relay {
        /** Run the relay in this instance (several instances may all run it; off for a write-only instance). */
        private boolean enabled = true;
        /** Rows claimed per pass (1..1000). */
        private int batchSize = 100;
        /** Pause between passes when the outbox is drained. */
        private long pollIntervalMs = 100;
        /** First pause after a failed pass; doubles up to backoff-max-ms. */
        private long backoffInitialMs = 200;
        private long backoffMaxMs = 10_000;
        /** How long to wait for the broker's confirms of a batch. */
        private long confirmTimeoutMs = 10_000;
        /** Sent rows are kept this long (for inspection), then deleted. */
        private long retentionSeconds = 3600;
        private long purgeIntervalMs = 60_000;
        /** How often the backlog (xatm.outbox.pending, the health details) is counted. */
        private long countIntervalMs = 2000;

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public int getBatchSize() { return batchSize; }
        public void setBatchSize(int batchSize) { this.batchSize = batchSize; }
        public long getPollIntervalMs() { return pollIntervalMs; }
        public void setPollIntervalMs(long pollIntervalMs) { this.pollIntervalMs = pollIntervalMs; }
        public long getBackoffInitialMs() { return backoffInitialMs; }
        public void setBackoffInitialMs(long backoffInitialMs) { this.backoffInitialMs = backoffInitialMs; }
        public long getBackoffMaxMs() { return backoffMaxMs; }
        public void setBackoffMaxMs(long backoffMaxMs) { this.backoffMaxMs = backoffMaxMs; }
        public long getConfirmTimeoutMs() { return confirmTimeoutMs; }
        public void setConfirmTimeoutMs(long confirmTimeoutMs) { this.confirmTimeoutMs = confirmTimeoutMs; }
        public long getRetentionSeconds() { return retentionSeconds; }
        public void setRetentionSeconds(long retentionSeconds) { this.retentionSeconds = retentionSeconds; }
        public long getPurgeIntervalMs() { return purgeIntervalMs; }
        public void setPurgeIntervalMs(long purgeIntervalMs) { this.purgeIntervalMs = purgeIntervalMs; }
        public long getCountIntervalMs() { return countIntervalMs; }
        public void setCountIntervalMs(long countIntervalMs) { this.countIntervalMs = countIntervalMs; }
    }

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public List<String> getDataSources() { return dataSources; }
    public void setDataSources(List<String> dataSources) { this.dataSources = dataSources; }
    public String getTablePrefix() { return tablePrefix; }
    public void setTablePrefix(String tablePrefix) { this.tablePrefix = tablePrefix; }
    public Relay getRelay() { return relay; }

    /** Fails fast on values that cannot work. */
    void validate() {
        if (relay.batchSize < 1 || relay.batchSize > 1000) {
            throw new IllegalStateException("tm.outbox.relay.batch-size must be 1..1000, not " + relay.batchSize);
        }
        if (relay.pollIntervalMs < 1 || relay.backoffInitialMs < 1 || relay.backoffMaxMs < relay.backoffInitialMs
                || relay.confirmTimeoutMs < 1 || relay.retentionSeconds < 0 || relay.purgeIntervalMs < 1 || relay.countIntervalMs < 1) {
            throw new IllegalStateException("tm.outbox.relay.*: intervals and timeouts must be positive and"
                    + " backoff-max-ms >= backoff-initial-ms");
        }
    }
}
