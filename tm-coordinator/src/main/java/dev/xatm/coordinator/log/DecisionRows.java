package dev.xatm.coordinator.log;

import dev.xatm.core.LogRecord;

import java.util.List;

/**
 * One row of {@code <prefix>decision} turned back into the log records that made it, for a restart
 * ({@link JdbcTxnLog#open()}) and a takeover (the cluster package's {@code NodeTakeover}) alike: the
 * payload is the record as {@link RecordCodec} encodes it, an ABORT outcome adds an Aborted record, a
 * completion a Completed. Public for the cluster package, which reads the same rows; stateless.
 */
public final class DecisionRows {
    public static final int OUTCOME_COMMIT = 1;
    public static final int OUTCOME_ABORT = 2;
    public static final int OUTCOME_PRE_COMMIT = 3;
    /** A rolled-back transaction with heuristic branches, held until an operator forgets it. */
    public static final int OUTCOME_HEURISTICS = 4;

    private DecisionRows() {}

    /** @throws TxnLogException the payload does not decode or is not the row's own record: damage a crash cannot explain */
    public static List<LogRecord> decode(String prefix, String xid, int outcome, byte[] payload, boolean completed) {
        LogRecord made;
        try {
            made = RecordCodec.decode(payload);
        } catch (RecordCodec.BadRecordException e) {
            throw corrupt(prefix, xid, "its payload does not decode: " + e.getMessage());
        }
        if (!made.gtrid().equals(xid) || !made.keepsOpen()) {
            throw corrupt(prefix, xid, "its payload is a record of " + made.gtrid() + ", " + made.getClass().getSimpleName());
        }
        if (outcome == OUTCOME_ABORT && completed) {
            return List.of(made, new LogRecord.Aborted(xid), new LogRecord.Completed(xid));
        }
        if (outcome == OUTCOME_ABORT) {
            return List.of(made, new LogRecord.Aborted(xid));
        }
        return completed ? List.of(made, new LogRecord.Completed(xid)) : List.of(made);
    }

    /** Refuse rather than lose a COMMIT decision. */
    private static TxnLogException corrupt(String prefix, String xid, String problem) {
        return new TxnLogException("row " + xid + " of " + prefix + "decision is corrupt: " + problem
                + "; refusing to start rather than lose COMMIT decisions. Restore the row from a backup, or delete it if you"
                + " accept losing what it holds");
    }
}
