package dev.xatm.server.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.xatm.core.view.BranchView;
import dev.xatm.core.view.HistoryEntry;
import dev.xatm.core.view.InDoubtReason;
import dev.xatm.core.view.InDoubtTxn;
import dev.xatm.core.view.TxnDetail;
import dev.xatm.core.view.TxnSummary;

import java.time.Instant;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * What the admin API returns, as JSON records. The core keeps times on the coordinator's monotonic
 * clock; here they become ISO-8601 instants (null for "not yet" / "unknown"), converted with the
 * loop's clock, which is exact to the resolution of its ticks.
 */
final class AdminJson {
    private AdminJson() {}

    /**
     * One transaction in a list. {@code xid} is the global transaction id (the gtrid). {@code ownerNode}:
     * on a JDBC store shared by several servers, the node that drives it (this server's node id, for
     * its own transactions and those it adopted from a dead node); absent on the file store, whose JSON
     * stays as it was.
     */
    record Transaction(String xid, String name, String protocol, String phase, String status, String outcome, String begunAt,
                       String decidedAt, String finishedAt, String deadline, int branches, boolean restored,
                       String acknowledgedBy, @JsonInclude(JsonInclude.Include.NON_NULL) Integer ownerNode) {}

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

    /** The optional body of a forced resolution. */
    record OperatorRequest(String operator) {}

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

        TransactionDetail detail(TxnDetail d) {
            TxnSummary s = d.summary();
            return new TransactionDetail(s.gtrid(), s.name(), s.protocol(), s.phase(), s.status().name(), name(s.outcome()),
                    at(s.begunMillis()), at(s.decidedMillis()), at(s.finishedMillis()), at(s.deadlineMillis()), s.restored(),
                    s.acknowledgedBy(), d.branches().stream().map(this::branch).toList(),
                    d.inDoubt().stream().map(AdminJson::reason).toList(), d.history().stream().map(this::history).toList(),
                    d.historyDropped(), ownerNode);
        }

        InDoubt inDoubt(InDoubtTxn t) {
            return new InDoubt(transaction(t.summary()), t.reasons().stream().map(AdminJson::reason).toList());
        }

        private Branch branch(BranchView b) {
            return new Branch(b.bqual(), b.resourceId(), b.agentId(), b.registeredBy(), b.agentState().name(), b.phase(),
                    name(b.vote()), name(b.pending()), b.attempts(), at(b.lastSentMillis()), name(b.heuristic()),
                    name(b.decidedOnItsOwn()));
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
