package dev.xatm.server.it;

import dev.xatm.protocol.TmXid;
import dev.xatm.protocol.v1.PhaseAction;
import dev.xatm.protocol.v1.ProtocolError;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** What a test agent saw and did, for the tests' assertions. Thread-safe. */
final class AgentObservations {
    final List<TestAgent.Received> received = new CopyOnWriteArrayList<>();
    final List<TestAgent.OwnDecision> ownDecisions = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final List<ProtocolError> protocolErrors = new CopyOnWriteArrayList<>();
    final AtomicInteger welcomes = new AtomicInteger();
    final AtomicInteger inquiriesSent = new AtomicInteger();

    long firstReceivedNanos(TmXid xid, PhaseAction action) {
        for (TestAgent.Received r : received) {
            if (r.xid().equals(xid) && r.action() == action) {
                return r.atNanos();
            }
        }
        return -1;
    }

    List<PhaseAction> actionsFor(TmXid xid) {
        List<PhaseAction> out = new ArrayList<>();
        for (TestAgent.Received r : received) {
            if (r.xid().equals(xid)) {
                out.add(r.action());
            }
        }
        return out;
    }
}
