package dev.xatm.outbox.relay;

/**
 * What one relay loop last saw, for the health indicator and metrics: written by the loop's thread,
 * read by anyone (immutable snapshot, published through a volatile field).
 *
 * @param consecutiveFailures passes failed in a row (0: the last pass worked)
 * @param lastError           the last failure's message (no secrets: driver and AMQP messages name
 *                            hosts and ports, never passwords), or null
 * @param pending             unsent rows at the last count, -1 before the first
 * @param lastSuccessMillis   wall clock of the last good pass, 0 if none
 */
public record RelayStatus(String dataSource, int consecutiveFailures, String lastError, long pending, long lastSuccessMillis) {
    public boolean healthy() {
        return consecutiveFailures == 0;
    }
}
