package dev.xatm.client.support;

import dev.xatm.client.coordinator.TxnStatus;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalOutcome;
import dev.xatm.client.coordinator.CoordinatorAccess;
import dev.xatm.client.coordinator.OutcomeReport;

import java.util.ArrayList;
import java.util.List;

/** Records the TM calls and answers commits with a configurable outcome. Single-threaded tests only. */
final class FakeCoordinator implements CoordinatorAccess {
    final List<String> calls = new ArrayList<>();
    GlobalOutcome commitOutcome = GlobalOutcome.COMMITTED;

    @Override
    public void begin(String gtrid, String name, long timeoutMillis, CommitProtocol protocol) {
        calls.add("begin " + gtrid + " " + timeoutMillis + (protocol == CommitProtocol.TWO_PHASE ? "" : " " + protocol));
    }

    @Override
    public void registerBranch(String gtrid, String bqual, String resourceId, String agentId) {
        calls.add("register " + gtrid + " " + resourceId);
    }

    @Override
    public OutcomeReport commit(String gtrid, boolean waitForCompletion) {
        calls.add("commit " + gtrid);
        return new OutcomeReport(commitOutcome, "fake");
    }

    @Override
    public OutcomeReport rollback(String gtrid) {
        calls.add("rollback " + gtrid);
        return new OutcomeReport(GlobalOutcome.ROLLED_BACK, "fake");
    }

    @Override
    public TxnStatus status(String gtrid) {
        return TxnStatus.UNKNOWN;
    }

    @Override
    public String describe() {
        return "fake coordinator";
    }

    List<String> kinds() {
        return calls.stream().map(c -> c.split(" ")[0]).toList();
    }
}
