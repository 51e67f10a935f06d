package dev.xatm.client.enlist;

import javax.transaction.xa.XAException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

/**
 * What a failed XA call means for the agent, for the three drivers we enlist.
 *
 * <ul>
 *   <li>{@link Verdict#RETRY}: the resource could not answer (connection lost, server restarting);
 *       the branch is in the state it was in. Try again later, on a new connection if needed.</li>
 *   <li>{@link Verdict#ALREADY_DONE}: the effect asked for is already in place (XAER_NOTA on a
 *       rollback; on a commit only where the caller knows the branch was prepared and the decision
 *       is commit; XA_RB* on a rollback).</li>
 *   <li>{@link Verdict#HEURISTIC}: the database decided on its own (XA_HEUR*, also one that matches
 *       what was asked), or a two-phase commit met a branch that rolled back. Reported to the
 *       coordinator as the matching heuristic acknowledgement ({@link #heuristicAnswer}), never as
 *       done.</li>
 *   <li>{@link Verdict#FATAL}: the branch cannot do what was asked (a failed prepare, a protocol
 *       error); for phase 1 that means a NO vote.</li>
 * </ul>
 *
 * Stateless; {@link #classify} is a pure function of the exception and the operation.
 */
public final class XaErrorClassifier {
    public enum Verdict { RETRY, ALREADY_DONE, HEURISTIC, FATAL }

    /** MySQL/MariaDB server errors that mean "the branch was rolled back" (server errors 1402, 1613, 1614). */
    private static final int ER_XA_RBTIMEOUT = 1613;
    private static final int ER_XA_RBDEADLOCK = 1614;
    private static final int ER_XA_RBROLLBACK = 1402;
    private static final int ER_XAER_NOTA = 1397;

    private XaErrorClassifier() {}

    public static Verdict classify(XAException e, XaOperation op) {
        int code = effectiveCode(e);
        if (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) {
            // the branch is rolled back: what we wanted for a rollback; a failure for anything else,
            // and for a commit after a successful prepare, a heuristic rollback
            return switch (op) {
                case ROLLBACK -> Verdict.ALREADY_DONE;
                case COMMIT -> Verdict.HEURISTIC;
                default -> Verdict.FATAL;
            };
        }
        return switch (code) {
            case XAException.XAER_NOTA -> switch (op) {
                case ROLLBACK, COMMIT -> Verdict.ALREADY_DONE;
                default -> Verdict.FATAL;
            };
            // Even one that matches the decision (XA_HEURCOM to a commit): the database resolved an in-doubt
            // branch without us, which the coordinator must hear of, and it remembers the branch until forgotten.
            case XAException.XA_HEURCOM, XAException.XA_HEURRB, XAException.XA_HEURMIX, XAException.XA_HEURHAZ -> Verdict.HEURISTIC;
            // RMFAIL: the resource is unavailable (connection lost). RMERR: pgjdbc reports a still
            // prepared branch this way after its backend died (pgjdbc#4438), so
            // for phase 2 it is worth retrying; for phase 1 the branch is lost anyway.
            case XAException.XAER_RMFAIL -> isPhaseTwo(op) ? Verdict.RETRY : Verdict.FATAL;
            case XAException.XAER_RMERR -> isPhaseTwo(op) ? Verdict.RETRY : Verdict.FATAL;
            // mariadb-java-client maps only 1397-1402; anything else, a lost connection included,
            // arrives as errorCode 0: never success, never final.
            case 0 -> isPhaseTwo(op) ? Verdict.RETRY : Verdict.FATAL;
            default -> Verdict.FATAL;
        };
    }

    /**
     * The heuristic acknowledgement to report for {@code e}, answered to a phase-2 call ({@code op} is
     * COMMIT, COMMIT_ONE_PHASE or ROLLBACK), or null when {@code e} is not a heuristic outcome:
     * XA_HEURCOM, XA_HEURRB, XA_HEURMIX and XA_HEURHAZ as themselves, and XA_RB* to a two-phase COMMIT
     * as a heuristic rollback (the branch voted YES, so only the database's own decision can have
     * rolled it back). XA_RB* to a one-phase commit is an ordinary "rolled back instead", and to a
     * rollback it is what was asked.
     */
    public static BranchAnswer heuristicAnswer(XAException e, XaOperation op) {
        int code = effectiveCode(e);
        if (code >= XAException.XA_RBBASE && code <= XAException.XA_RBEND) {
            return op == XaOperation.COMMIT ? BranchAnswer.HEURISTIC_ROLLBACK : null;
        }
        return switch (code) {
            case XAException.XA_HEURCOM -> BranchAnswer.HEURISTIC_COMMIT;
            case XAException.XA_HEURRB -> BranchAnswer.HEURISTIC_ROLLBACK;
            case XAException.XA_HEURMIX -> BranchAnswer.HEURISTIC_MIXED;
            case XAException.XA_HEURHAZ -> BranchAnswer.HEURISTIC_HAZARD;
            default -> null;
        };
    }

    /**
     * Whether the heuristic {@code answer} is the outcome {@code op} asked for (XA_HEURCOM to a commit,
     * XA_HEURRB to a rollback). Such a branch is harmless: the agent forgets it in the database at once
     * (XAResource.forget) and still reports it. Any other heuristic is left for an operator, and the
     * database keeps remembering it, so a resent command hears it again.
     */
    public static boolean matchesDecision(BranchAnswer answer, XaOperation op) {
        return switch (op) {
            case COMMIT, COMMIT_ONE_PHASE -> answer == BranchAnswer.HEURISTIC_COMMIT;
            case ROLLBACK -> answer == BranchAnswer.HEURISTIC_ROLLBACK;
            default -> false;
        };
    }

    /**
     * Whether the database may have done what {@code e} answers, the answer being lost with the
     * connection: the outcome is in doubt, never a known one. True for
     * <ul>
     *   <li>XAER_RMFAIL: mysql-connector-j maps any non-XA SQL error to it, a lost connection included;
     *       pgjdbc answers every PREPARE failure outside SQLSTATE class 23 with it;</li>
     *   <li>errorCode 0: mariadb-java-client maps only the server's XA errors 1397-1402 and reports
     *       anything else, a killed connection among it, with no code at all;</li>
     *   <li>XAER_RMERR: pgjdbc's answer for a branch whose backend was terminated after PREPARE;</li>
     *   <li>any code whose cause is a connection failure (SQLSTATE 08*, 57P01 "terminating connection",
     *       a closed connection).</li>
     * </ul>
     * The database's definite answers (XA_RB*, XAER_NOTA, XAER_PROTO, XA_HEUR*, ...) are not in doubt.
     */
    public static boolean outcomeUnknown(XAException e) {
        int code = effectiveCode(e);
        if (code == XAException.XAER_RMFAIL || code == XAException.XAER_RMERR || code == 0) {
            return true;
        }
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException sql && isConnectionFailure(sql)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The XA error code, corrected for drivers that lose it: an errorCode 0 whose cause is a MySQL or
     * MariaDB SQLException with a known XA server error gets that error's XA code; one caused by a
     * connection failure gets XAER_RMFAIL.
     */
    static int effectiveCode(XAException e) {
        if (e.errorCode == XAException.XAER_RMERR && causedByUndefinedObject(e)) {
            // pgjdbc answers COMMIT/ROLLBACK PREPARED of the xid its own connection prepared with XAER_RMERR
            // even when the server says the prepared transaction does not exist (SQLSTATE 42704): that
            // is "no such branch", a definite answer, not a failure worth retrying.
            return XAException.XAER_NOTA;
        }
        if (e.errorCode != 0) {
            return e.errorCode;
        }
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException sql) {
                switch (sql.getErrorCode()) {
                    case ER_XA_RBTIMEOUT:
                        return XAException.XA_RBTIMEOUT;
                    case ER_XA_RBDEADLOCK:
                        return XAException.XA_RBDEADLOCK;
                    case ER_XA_RBROLLBACK:
                        return XAException.XA_RBROLLBACK;
                    case ER_XAER_NOTA:
                        return XAException.XAER_NOTA;
                    default:
                        break;
                }
                if (isConnectionFailure(sql)) {
                    return XAException.XAER_RMFAIL;
                }
            }
        }
        return 0;
    }

    private static boolean causedByUndefinedObject(XAException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException sql && "42704".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return e instanceof SQLNonTransientConnectionException || e instanceof SQLTransientConnectionException
                || e instanceof SQLRecoverableException
                || (state != null && (state.startsWith("08") || state.equals("57P01")))
                || isClosedConnection(e);
    }

    /** pgjdbc says "This connection has been closed." with SQLSTATE 08003; others only in words. */
    private static boolean isClosedConnection(SQLException e) {
        String m = e.getMessage();
        return m != null && m.toLowerCase(java.util.Locale.ROOT).contains("connection") && m.toLowerCase(java.util.Locale.ROOT).contains("closed");
    }

    private static boolean isPhaseTwo(XaOperation op) {
        return op == XaOperation.COMMIT || op == XaOperation.ROLLBACK;
    }

    /** "XAER_NOTA (-4): message" for logs and exception messages. */
    public static String describe(XAException e) {
        return name(e.errorCode) + " (" + e.errorCode + ")" + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    static String name(int code) {
        return switch (code) {
            case XAException.XA_RBROLLBACK -> "XA_RBROLLBACK";
            case XAException.XA_RBCOMMFAIL -> "XA_RBCOMMFAIL";
            case XAException.XA_RBDEADLOCK -> "XA_RBDEADLOCK";
            case XAException.XA_RBINTEGRITY -> "XA_RBINTEGRITY";
            case XAException.XA_RBOTHER -> "XA_RBOTHER";
            case XAException.XA_RBPROTO -> "XA_RBPROTO";
            case XAException.XA_RBTIMEOUT -> "XA_RBTIMEOUT";
            case XAException.XA_RBTRANSIENT -> "XA_RBTRANSIENT";
            case XAException.XA_HEURHAZ -> "XA_HEURHAZ";
            case XAException.XA_HEURCOM -> "XA_HEURCOM";
            case XAException.XA_HEURRB -> "XA_HEURRB";
            case XAException.XA_HEURMIX -> "XA_HEURMIX";
            case XAException.XAER_ASYNC -> "XAER_ASYNC";
            case XAException.XAER_RMERR -> "XAER_RMERR";
            case XAException.XAER_NOTA -> "XAER_NOTA";
            case XAException.XAER_INVAL -> "XAER_INVAL";
            case XAException.XAER_PROTO -> "XAER_PROTO";
            case XAException.XAER_RMFAIL -> "XAER_RMFAIL";
            case XAException.XAER_DUPID -> "XAER_DUPID";
            case XAException.XAER_OUTSIDE -> "XAER_OUTSIDE";
            case 0 -> "no XA code";
            default -> "XA code";
        };
    }
}
