package dev.xatm.core.view;

import dev.xatm.core.TxnStatus;

/**
 * Which transactions a list wants; every criterion is optional (null, or 0 for the age).
 *
 * @param status        only this status
 * @param protocol      only this protocol, "2PC" or "3PC"
 * @param name          only transactions begun with exactly this name
 * @param minAgeMillis  only transactions begun at least this long ago (restored ones count as old: their begin is unknown)
 */
public record TxnQuery(TxnStatus status, String protocol, String name, long minAgeMillis) {
    public static final TxnQuery ALL = new TxnQuery(null, null, null, 0);

    public TxnQuery {
        if (minAgeMillis < 0) {
            throw new IllegalArgumentException("minAgeMillis must be >= 0, got " + minAgeMillis);
        }
    }
}
