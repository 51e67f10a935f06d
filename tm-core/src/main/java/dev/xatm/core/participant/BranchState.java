package dev.xatm.core.participant;

import dev.xatm.core.Action;
import dev.xatm.core.AckResult;

/**
 * The one state of a branch at its participant, with exactly the data that state needs. See
 * tm-core/README.md for the transitions.
 */
public sealed interface BranchState {

    /**
     * XA-started; the business code may still hold it.
     *
     * @param holders scopes using the connection now; phase commands wait while it is above zero
     * @param wrote   something that may write ran on it (else it may finish read-only)
     * @param doomed  a scope failed: phase 1 votes NO
     * @param parked  a phase command that came while it was held, run when the last holder lets go; null if none
     */
    record Active(int holders, boolean wrote, boolean doomed, Parked parked) implements BranchState {}

    /** 3PC: answered YES to CAN_COMMIT, XA-ended, nothing durable; {@code timer} rolls it back unless PRE_COMMIT comes. */
    record Willing(long timer) implements BranchState {}

    /**
     * XA-prepared.
     *
     * @param timer    3PC: after a YES to PRE_COMMIT, the timer that commits it on its own; 0 if none
     * @param byXid    phase 2 runs by xid, not on the preparing connection (found by XA RECOVER, or a
     *                 commit's answer was lost): XAER_NOTA on COMMIT then means it is committed
     * @param inCaller the application thread that prepared it waits for the decision: no inquiry now
     */
    record Prepared(long timer, boolean byXid, boolean inCaller) implements BranchState {}

    /**
     * XA calls are running for {@code purpose}; {@code before} is where a call that could not run
     * (UNAVAILABLE) leaves the branch.
     */
    record Working(Purpose purpose, Asker asker, long participantTimeoutMillis, BranchState before) implements BranchState {}

    /** XA PREPARE's answer was lost: the database may hold it prepared. It voted NO; rolled back by xid. */
    record InDoubt() implements BranchState {}

    /** Finished here; {@code end} answers every later command. */
    record Ended(End end) implements BranchState {}

    /** A phase command waiting for the business code to let go. */
    record Parked(Action action, Asker asker, long participantTimeoutMillis) {}

    /** What the running XA calls are for. */
    enum Purpose {
        /** 2PC PREPARE: XA END (unless ended) and XA PREPARE, a YES. */
        PREPARE,
        /** 3PC PRE_COMMIT: XA PREPARE, a YES, and the timer that commits on its own. */
        PRE_COMMIT,
        /** 3PC CAN_COMMIT: the health check and XA END ({@link XaOp#END_CHECKED}), a YES, and the timer that rolls back on its own. */
        CAN_COMMIT,
        /** Nothing written: XA END and one-phase commit, a READ_ONLY vote to {@code answering}. */
        READ_ONLY_PREPARE,
        READ_ONLY_CAN_COMMIT,
        COMMIT_ONE_PHASE,
        COMMIT,
        ROLLBACK,
        OWN_COMMIT,
        OWN_ROLLBACK
    }

    /** How a branch finished here. */
    enum End {
        COMMITTED, ROLLED_BACK, READ_ONLY, COMMITTED_ON_ITS_OWN, ROLLED_BACK_ON_ITS_OWN,
        HEURISTIC_COMMIT, HEURISTIC_ROLLBACK, HEURISTIC_MIXED, HEURISTIC_HAZARD,
        /** A one-phase commit lost its connection: nobody knows; the coordinator reports a hazard. */
        UNKNOWN;

        /** The database decided on its own: every later phase-2 command hears the same heuristic. */
        AckResult heuristic() {
            return switch (this) {
                case HEURISTIC_COMMIT -> AckResult.HEURISTIC_COMMIT;
                case HEURISTIC_ROLLBACK -> AckResult.HEURISTIC_ROLLBACK;
                case HEURISTIC_MIXED -> AckResult.HEURISTIC_MIXED;
                case HEURISTIC_HAZARD -> AckResult.HEURISTIC_HAZARD;
                default -> null;
            };
        }

        /** 3PC: what it decided on its own, or null. */
        Action ownDecision() {
            return this == COMMITTED_ON_ITS_OWN ? Action.COMMIT : this == ROLLED_BACK_ON_ITS_OWN ? Action.ROLLBACK : null;
        }

        boolean committed() {
            return this == COMMITTED || this == COMMITTED_ON_ITS_OWN;
        }

        boolean rolledBack() {
            return this == ROLLED_BACK || this == ROLLED_BACK_ON_ITS_OWN;
        }

        static End of(XaResult heuristic) {
            return switch (heuristic) {
                case HEURISTIC_COMMIT -> HEURISTIC_COMMIT;
                case HEURISTIC_ROLLBACK -> HEURISTIC_ROLLBACK;
                case HEURISTIC_MIXED -> HEURISTIC_MIXED;
                case HEURISTIC_HAZARD -> HEURISTIC_HAZARD;
                default -> throw new IllegalArgumentException("not a heuristic: " + heuristic);
            };
        }
    }

    /**
     * Who waits for the answer: a coordinator node ({@code server}), the application thread
     * ({@code caller}), or nobody (a quiet rollback, an own decision reported separately).
     */
    record Asker(String server, boolean caller) {
        static final Asker NOBODY = new Asker(null, false);
        static final Asker CALLER = new Asker(null, true);

        static Asker server(String server) {
            return new Asker(server, false);
        }

        boolean nobody() {
            return server == null && !caller;
        }
    }
}
