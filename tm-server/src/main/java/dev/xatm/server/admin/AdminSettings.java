package dev.xatm.server.admin;

/**
 * @param inDoubtAfterMillis {@code tm.server.in-doubt-after-ms}: a decided transaction whose outcome
 *                           has not reached every branch this long is listed as in doubt
 */
public record AdminSettings(long inDoubtAfterMillis) {
    public AdminSettings {
        if (inDoubtAfterMillis < 0 || inDoubtAfterMillis > 7L * 24 * 3600 * 1000) {
            throw new IllegalArgumentException("tm.server.in-doubt-after-ms must be between 0 and 604800000, got " + inDoubtAfterMillis);
        }
    }
}
