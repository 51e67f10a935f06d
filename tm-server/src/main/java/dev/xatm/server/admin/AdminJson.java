package dev.xatm.server.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.InDoubtTxn;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnSummary;
import dev.xatm.coordinator.log.OperatorAction;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * What the admin API returns, as JSON records. The core keeps times on the coordinator's monotonic
 * clock; here they become ISO-8601 instants (null for "not yet" / "unknown"), converted with the
 * loop's clock, which is exact to the resolution of its ticks.
 */
final class AdminJson {
    private AdminJson() {}

    /** The core's notes of operator actions, replaced by the log's copies where the log kept any. */
    private static final Set<HistoryEntry.Kind> OPERATOR_KINDS = EnumSet.of(HistoryEntry.Kind.FORCED_COMMIT,
            HistoryEntry.Kind.FORCED_ROLLBACK, HistoryEntry.Kind.FORGOTTEN, HistoryEntry.Kind.FORCE_REFUSED);

    /**
     * One transaction in a list. {@code xid} is the global transaction id (the gtrid). {@code ownerNode}:
     * on a JDBC store shared by several servers, the node that drives it (this server's node id, for
     * its own transactions and those it adopted from a dead node); absent on the file store, whose JSON
     * stays as it was.
     */
    record Transaction(String xid, String name, String protocol, String phase, String status, String outcome, String begunAt,
                       String decidedAt, String finishedAt, String deadline, int branches, boolean restored,
                       String acknowledgedBy, @JsonInclude(JsonInclude.Include.NON_NULL) Integer ownerNode) {}

    /**
     * A page of the list, asked for with {@code cursor}: {@code nextCursor} is null on the last page, and
     * {@code total} counts every match now, whatever the page.
     */
    record Page(List<Transaction> items, String nextCursor, int total) {}

    /** One transaction with everything the coordinator knows of it. */
    record TransactionDetail(String xid, String name, String protocol, String phase, String status, String outcome, String begunAt,
                             String decidedAt, String finishedAt, String deadline, boolean restored, String acknowledgedBy,
                             List<Branch> branches, List<Reason> inDoubt, List<History> history, int historyDropped,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Integer ownerNode) {}

    record Branch(String bqual, String resource, String agent, String registeredBy, String agentState, String status,
                  String vote, String pendingCommand, int attempts, String lastSentAt, String heuristic,
                  String decidedOnItsOwn) {}

    record History(String at, String kind, String branch, String detail) {}

    record Reason(String kind, String branch, String message) {}

    record InDoubt(Transaction transaction, List<Reason> reasons) {}

    /** The answer to a forced commit, rollback or forget. */
    record Resolution(String xid, String request, String operator, String status, String message) {}

    /** The optional body of a forced resolution: why. Who is the operator the token names, never a field here. */
    record OperatorBody(String reason) {}

    /** Monotonic coordinator millis to wall-clock ISO instants. */
    static final class Times {
        private final LongUnaryOperator toEpochMillis;
        private final Integer ownerNode;

        /** @param ownerNode this server's node id on a JDBC store, or null (file store): every transaction it holds is its own */
        Times(LongUnaryOperator toEpochMillis, Integer ownerNode) {
            this.toEpochMillis = toEpochMillis;
            this.ownerNode = ownerNode;
        }

        String at(long monotonicMillis) {
            if (monotonicMillis < 0 || monotonicMillis == Long.MAX_VALUE) {
                return null;
            }
            return Instant.ofEpochMilli(toEpochMillis.applyAsLong(monotonicMillis)).toString();
        }

        Transaction transaction(TxnSummary s) {
            return new Transaction(s.gtrid(), s.name(), s.protocol(), s.phase(), s.status().name(), name(s.outcome()), at(s.begunMillis()),
                    at(s.decidedMillis()), at(s.finishedMillis()), at(s.deadlineMillis()), s.branchCount(), s.restored(),
                    s.acknowledgedBy(), ownerNode);
        }

        /**
         * One transaction, its history merged with the operator actions the log kept (oldest first). The
         * log's copy of an operator action replaces the core's note of it: the log's survives a restart and
         * carries the role and reason.
         */
        TransactionDetail detail(TxnDetail d, List<OperatorAction> actions) {
            TxnSummary s = d.summary();
            List<History> history = new ArrayList<>();
            List<Long> when = new ArrayList<>();
            for (HistoryEntry h : d.history()) {
                if (!actions.isEmpty() && OPERATOR_KINDS.contains(h.kind())) {
                    continue;
                }
                history.add(history(h));
                when.add(h.atMillis() < 0 ? Long.MIN_VALUE : toEpochMillis.applyAsLong(h.atMillis()));
            }
            for (OperatorAction a : actions) {
                int i = 0;
                while (i < when.size() && when.get(i) <= a.atEpochMillis()) {
                    i++;
                }
                history.add(i, history(a));
                when.add(i, a.atEpochMillis());
            }
            return new TransactionDetail(s.gtrid(), s.name(), s.protocol(), s.phase(), s.status().name(), name(s.outcome()),
                    at(s.begunMillis()), at(s.decidedMillis()), at(s.finishedMillis()), at(s.deadlineMillis()), s.restored(),
                    s.acknowledgedBy(), d.branches().stream().map(this::branch).toList(),
                    d.inDoubt().stream().map(AdminJson::reason).toList(), history, d.historyDropped(), ownerNode);
        }

        /**
         * A transaction the coordinator no longer holds (finished and forgotten, or rolled back and lost in a
         * restart: presumed abort logs nothing for it) on which an operator acted: status UNKNOWN, and the
         * operator actions as its history.
         */
        TransactionDetail forgotten(String gtrid, List<OperatorAction> actions) {
            return new TransactionDetail(gtrid, null, null, null, "UNKNOWN", null, null, null, null, null, true, null, List.of(),
                    List.of(), actions.stream().map(Times::history).toList(), 0, ownerNode);
        }

        InDoubt inDoubt(InDoubtTxn t) {
            return new InDoubt(transaction(t.summary()), t.reasons().stream().map(AdminJson::reason).toList());
        }

        private Branch branch(BranchView b) {
            return new Branch(b.bqual(), b.resourceId(), b.agentId(), b.registeredBy(), b.agentState().name(), b.phase(),
                    name(b.vote()), name(b.pending()), b.attempts(), at(b.lastSentMillis()), name(b.heuristic()),
                    name(b.decidedOnItsOwn()));
        }

        private static History history(OperatorAction a) {
            String kind = switch (a.action()) {
                case "commit" -> HistoryEntry.Kind.FORCED_COMMIT.name();
                case "rollback" -> HistoryEntry.Kind.FORCED_ROLLBACK.name();
                case "forget" -> HistoryEntry.Kind.FORGOTTEN.name();
                default -> HistoryEntry.Kind.FORCE_REFUSED.name();
            };
            String detail = a.action() + " by operator " + a.operator() + " (" + a.role() + " token): " + a.result()
                    + (a.reason() == null ? "" : "; reason: " + a.reason());
            return new History(Instant.ofEpochMilli(a.atEpochMillis()).toString(), kind, null, detail);
        }

        private History history(HistoryEntry h) {
            return new History(at(h.atMillis()), h.kind().name(), h.bqual(), h.detail());
        }
    }

    private static Reason reason(InDoubtReason r) {
        return new Reason(r.kind().name(), r.bqual(), r.message());
    }

    private static String name(Enum<?> e) {
        return e == null ? null : e.name();
    }
}
