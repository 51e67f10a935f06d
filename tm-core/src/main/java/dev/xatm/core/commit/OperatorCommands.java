package dev.xatm.core.commit;

import dev.xatm.core.Action;
import dev.xatm.core.CoordinatorConfig;
import dev.xatm.core.Effects;
import dev.xatm.core.ErrorCode;
import dev.xatm.core.Event;
import dev.xatm.core.Ids;
import dev.xatm.core.LogRecord;
import dev.xatm.core.Outcome;
import dev.xatm.core.Reply;
import dev.xatm.core.RequestKind;
import dev.xatm.core.view.HistoryEntry.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An operator's forced resolutions (the admin API's commit, rollback and forget). The rule that
 * decides each one: <b>an operator may never contradict a durable decision, nor create one</b>.
 * <ul>
 *   <li>ForceRollback: allowed while no COMMIT decision exists (ACTIVE, PREPARING) and for a
 *       transaction already rolling back (it resends the ROLLBACKs now). Refused once a COMMIT
 *       decision is durable or being written, and during a one-phase commit (the database decides
 *       that one; rolling back under it could contradict what it already did).</li>
 *   <li>ForceCommit: allowed only with a durable COMMIT decision (it resends the COMMITs now).
 *       Presumed abort means any undecided transaction may be rolled back by anyone at any time (a
 *       deadline, a lost agent, a restart that forgets it), so an operator's commit without that
 *       decision could contradict a rollback already under way: refused.</li>
 *   <li>Forget: only for a finished transaction held for its heuristic outcome or hazard; it is
 *       the operator saying "I have reconciled the databases". Nothing is ever forgotten while
 *       phase 2 still has work to do (never give up, never delete).</li>
 * </ul>
 * Every attempt, accepted or refused, goes into the transaction's history with the operator's
 * name. Not thread-safe; owned by the {@link Coordinator}.
 */
final class OperatorCommands {
    private final CoordinatorConfig config;
    private final TxnTable txns;
    private final TwoPhase twoPhase;
    private final Set<String> goneAgents;

    OperatorCommands(CoordinatorConfig config, TxnTable txns, TwoPhase twoPhase, Set<String> goneAgents) {
        this.config = config;
        this.txns = txns;
        this.twoPhase = twoPhase;
        this.goneAgents = goneAgents;
    }

    void forceRollback(Event.ForceRollback e, long nowMillis, Effects.Builder out) {
        GlobalTxn t = validated(e.gtrid(), e.operator(), RequestKind.FORCE_ROLLBACK, out);
        if (t == null) {
            return;
        }
        String op = e.operator();
        switch (t.state()) {
            case ACTIVE, PREPARING, CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> {
                if (t.state() == GlobalTxn.State.PRE_COMMIT && t.restored()) {
                    refuse(t, RequestKind.FORCE_ROLLBACK, op, nowMillis, "it was restored in PRE_COMMIT after a coordinator"
                            + " restart: a participant may have committed on its own after its PRE_COMMIT timeout, so a rollback"
                            + " could contradict it; PRE_COMMIT is being resent and the branches' answers decide", out);
                    return;
                }
                t.note(nowMillis, Kind.FORCED_ROLLBACK, null, "by operator " + op);
                twoPhase.abort(t, Outcome.ROLLED_BACK, "forced by operator " + op, nowMillis, out);
                txns.retireIfFinished(t);
                resolved(t, RequestKind.FORCE_ROLLBACK, "rolled back by operator " + op + "; " + pendingSummary(t), out);
            }
            case ROLLING_BACK -> {
                int resent = resendPending(t, Action.ROLLBACK, nowMillis, out);
                t.note(nowMillis, Kind.FORCED_ROLLBACK, null, "by operator " + op + ": already rolling back, ROLLBACK resent to "
                        + resent + " branch(es)");
                resolved(t, RequestKind.FORCE_ROLLBACK, "already rolling back; ROLLBACK resent now; " + pendingSummary(t), out);
            }
            case FINISHED_ROLLED_BACK -> {
                t.note(nowMillis, Kind.FORCED_ROLLBACK, null, "by operator " + op + ": already rolled back, nothing to do");
                resolved(t, RequestKind.FORCE_ROLLBACK, "already rolled back", out);
            }
            case LOGGING_DECISION, COMMITTING, FINISHED_COMMITTED -> refuse(t, RequestKind.FORCE_ROLLBACK, op, nowMillis,
                    "its COMMIT decision is durable (or being made durable): rolling it back would contradict it; "
                            + "phase 2 commits every branch as its agent answers", out);
            case COMMITTING_ONE_PHASE -> refuse(t, RequestKind.FORCE_ROLLBACK, op, nowMillis,
                    "a one-phase commit is in flight: the database decides its outcome, and a rollback could contradict "
                            + "what it already did; wait for the answer (or the HEURISTIC_HAZARD if its agent is lost)", out);
            case FINISHED_HEURISTIC, FINISHED_HEURISTIC_HAZARD -> refuse(t, RequestKind.FORCE_ROLLBACK, op, nowMillis,
                    "phase 2 is over and a database decided on its own (" + t.state().status + "): reconcile the branches"
                            + " at the databases by hand, then forget it", out);
        }
    }

    void forceCommit(Event.ForceCommit e, long nowMillis, Effects.Builder out) {
        GlobalTxn t = validated(e.gtrid(), e.operator(), RequestKind.FORCE_COMMIT, out);
        if (t == null) {
            return;
        }
        String op = e.operator();
        switch (t.state()) {
            case COMMITTING -> {
                int resent = resendPending(t, Action.COMMIT, nowMillis, out);
                t.note(nowMillis, Kind.FORCED_COMMIT, null, "by operator " + op + ": decision durable, COMMIT resent to "
                        + resent + " branch(es)");
                resolved(t, RequestKind.FORCE_COMMIT, "COMMIT decision is durable; COMMIT resent now; " + pendingSummary(t), out);
            }
            case FINISHED_COMMITTED -> {
                t.note(nowMillis, Kind.FORCED_COMMIT, null, "by operator " + op + ": already committed, nothing to do");
                resolved(t, RequestKind.FORCE_COMMIT, "already committed", out);
            }
            case LOGGING_DECISION -> refuse(t, RequestKind.FORCE_COMMIT, op, nowMillis,
                    "its COMMIT decision is being written but is not durable yet; it commits by itself once it is", out);
            case CAN_COMMIT, LOGGING_PRE_COMMIT, PRE_COMMIT -> refuse(t, RequestKind.FORCE_COMMIT, op, nowMillis,
                    "it has no durable COMMIT decision (three-phase commit, " + t.state().status + "): it commits by itself"
                            + " once every branch acknowledged PRE_COMMIT, and a forced commit could contradict a branch that"
                            + " is not prepared", out);
            case ACTIVE, PREPARING, COMMITTING_ONE_PHASE -> refuse(t, RequestKind.FORCE_COMMIT, op, nowMillis,
                    "it has no durable COMMIT decision: under presumed abort an undecided transaction may be rolled back"
                            + " at any time (deadline, lost agent, restart), so a forced commit could contradict that", out);
            case ROLLING_BACK, FINISHED_ROLLED_BACK -> refuse(t, RequestKind.FORCE_COMMIT, op, nowMillis,
                    "it was decided to roll back (" + t.outcome() + "): a commit would contradict that decision", out);
            case FINISHED_HEURISTIC, FINISHED_HEURISTIC_HAZARD -> refuse(t, RequestKind.FORCE_COMMIT, op, nowMillis,
                    "phase 2 is over and a database decided on its own (" + t.state().status + "): reconcile the branches"
                            + " at the databases by hand, then forget it", out);
        }
    }

    void forget(Event.Forget e, long nowMillis, Effects.Builder out) {
        GlobalTxn t = validated(e.gtrid(), e.operator(), RequestKind.FORGET, out);
        if (t == null) {
            return;
        }
        String op = e.operator();
        if (!t.state().status.needsOperator()) {
            refuse(t, RequestKind.FORGET, op, nowMillis, "only a finished transaction with a heuristic outcome or hazard can be"
                    + " forgotten; this one is " + t.state().status
                    + (t.isFinished() ? "" : " and the coordinator still drives it (it never gives up)"), out);
            return;
        }
        if (t.acknowledgedBy() != null) {
            t.note(nowMillis, Kind.FORGOTTEN, null, "by operator " + op + ": already forgotten by " + t.acknowledgedBy());
            resolved(t, RequestKind.FORGET, "already forgotten by " + t.acknowledgedBy(), out);
            return;
        }
        t.acknowledge(op);
        t.note(nowMillis, Kind.FORGOTTEN, null, "by operator " + op + "; no longer in doubt");
        if (t.decisionLogged() || t.preCommitLogged() || t.heuristicsLogged()) {
            // Its decision record (or 3PC PRE_COMMIT record) stayed open so that a restart would ask the
            // databases again; the operator has now reconciled them, so it may be closed like any finished one.
            // Without this a forgotten 3PC abort with a heuristic commit came back as ROLLING_BACK after every restart.
            out.append(new LogRecord.Completed(t.gtrid()));
        }
        txns.release(t);
        resolved(t, RequestKind.FORGET, "forgotten by operator " + op + "; it is no longer listed as in doubt", out);
    }

    // ---- helpers ----

    /** The transaction named by a well-formed request, or null after replying with the refusal. */
    private GlobalTxn validated(String gtrid, String operator, RequestKind kind, Effects.Builder out) {
        if (!Ids.isValidId(gtrid)) {
            out.reply(new Reply.Rejected(gtrid, kind, ErrorCode.INVALID_ARGUMENT, "malformed gtrid " + Ids.quote(gtrid)));
            return null;
        }
        if (operator == null || !isOperatorName(operator)) {
            out.reply(new Reply.Rejected(gtrid, kind, ErrorCode.INVALID_ARGUMENT,
                    "operator must be 1.." + Ids.MAX_NAME_CHARS + " printable characters, got " + Ids.quote(operator)));
            return null;
        }
        GlobalTxn t = txns.find(gtrid);
        if (t == null) {
            out.reply(new Reply.Rejected(gtrid, kind, ErrorCode.NOT_FOUND, "transaction " + gtrid + " is not known: never"
                    + " begun, or forgotten, or lost in a restart before a commit decision; presumed rolled back (a branch"
                    + " of it still prepared is rolled back when its agent inquires)"));
        }
        return t;
    }

    /** Operator names go into history and logs: printable ASCII (spaces allowed), bounded. */
    static boolean isOperatorName(String s) {
        if (s.isEmpty() || s.length() > Ids.MAX_NAME_CHARS || s.isBlank()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private int resendPending(GlobalTxn t, Action action, long nowMillis, Effects.Builder out) {
        int n = 0;
        for (BranchProgress b : t.branches()) {
            if (b.pending() == action) {
                b.resetBackoff(config, nowMillis);
                n++;
            }
        }
        // The resends go out on this step through the normal schedule, to agents that are not gone.
        twoPhase.tick(t, nowMillis, out);
        return n;
    }

    /** Which branches are still waiting, and which of those wait for an agent that is gone. */
    private String pendingSummary(GlobalTxn t) {
        List<String> waiting = new ArrayList<>();
        List<String> gone = new ArrayList<>();
        for (BranchProgress b : t.branches()) {
            if (b.pending() != null) {
                (goneAgents.contains(b.agentId()) ? gone : waiting).add(b.bqual());
            }
        }
        if (waiting.isEmpty() && gone.isEmpty()) {
            return "no branch is waiting";
        }
        String s = waiting.isEmpty() ? "" : "waiting for the acknowledgement of " + String.join(", ", waiting);
        if (!gone.isEmpty()) {
            s += (s.isEmpty() ? "" : "; ") + "branches " + String.join(", ", gone)
                    + " wait for their agent, which is gone (they get the command when an agent holding them connects or inquires)";
        }
        return s;
    }

    private static void resolved(GlobalTxn t, RequestKind kind, String message, Effects.Builder out) {
        out.reply(new Reply.Resolved(t.gtrid(), kind, t.state().status, message));
    }

    private static void refuse(GlobalTxn t, RequestKind kind, String operator, long nowMillis, String why, Effects.Builder out) {
        t.note(nowMillis, Kind.FORCE_REFUSED, null, kind + " by operator " + operator + " refused: " + why);
        out.reply(new Reply.Rejected(t.gtrid(), kind, ErrorCode.FAILED_PRECONDITION,
                "transaction " + t.gtrid() + " is " + t.state().status + ": " + why));
    }
}
