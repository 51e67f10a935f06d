package dev.xatm.server.admin;

/**
 * @param ownerNode          this server's node id when it runs on the JDBC store ({@code tm.server.node-id}),
 *                           shown as each transaction's owner; null on the file store
 * @param inDoubtAfterMillis {@code tm.server.in-doubt-after-ms}: a decided transaction whose outcome
 *                           has not reached every branch this long is listed as in doubt
 */
public record AdminSettings(long inDoubtAfterMillis, Integer ownerNode) {
    public AdminSettings(long inDoubtAfterMillis) {
        this(inDoubtAfterMillis, null);
    }

    public AdminSettings {
        if (inDoubtAfterMillis < 0 || inDoubtAfterMillis > 7L * 24 * 3600 * 1000) {
            throw new IllegalArgumentException("tm.server.in-doubt-after-ms must be between 0 and 604800000, got " + inDoubtAfterMillis);
        }
    }
}
