package dev.xatm.server.admin;

import dev.xatm.coordinator.log.OperatorAction;
import dev.xatm.coordinator.log.OperatorJournal;
import dev.xatm.coordinator.log.TxnLogException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;

/**
 * The admin API's side of the store's {@link OperatorJournal}: stamps each forced resolution with the
 * wall clock and bounds what is kept, so that the transaction's history shows it after a restart.
 * The action itself is already applied when it is recorded (the coordinator answered first), so a
 * store that cannot record it is reported to the operator (503, nothing hidden) rather than undone.
 * Thread-safe.
 */
public final class OperatorHistory {
    private static final Logger log = LoggerFactory.getLogger(OperatorHistory.class);
    static final int MAX_RESULT_CHARS = 1000;

    private final OperatorJournal journal;
    private final Clock clock;

    public OperatorHistory(OperatorJournal journal, Clock clock) {
        this.journal = journal;
        this.clock = clock;
    }

    /** Durable before it returns; {@code accepted} is false for a refusal. */
    void record(String gtrid, OperatorRequest operator, String action, boolean accepted, String result) {
        String bounded = result.length() > MAX_RESULT_CHARS ? result.substring(0, MAX_RESULT_CHARS - 3) + "..." : result;
        try {
            journal.record(new OperatorAction(gtrid, clock.millis(), operator.operator(), operator.role(), accepted ? action : "refused-" + action,
                    bounded, operator.reason()));
        } catch (TxnLogException e) {
            log.error("Operator '{}' {} of {} was {} but could not be recorded in the log", operator.operator(), action, gtrid,
                    accepted ? "applied" : "refused", e);
            throw ApiException.unavailable("the " + action + " was " + (accepted ? "applied" : "refused") + " (" + bounded
                    + ") but the log could not record it; see the server log");
        }
    }

    List<OperatorAction> of(String gtrid) {
        return journal.of(gtrid);
    }
}
