package dev.xatm.core.sim;

import dev.xatm.core.Branch;
import dev.xatm.core.LogRecord;
import dev.xatm.core.cluster.DecisionRow;
import dev.xatm.core.cluster.LeaseRules;
import dev.xatm.core.cluster.NodeEpoch;
import dev.xatm.core.cluster.NodeRow;
import dev.xatm.core.cluster.StoreRules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The shared store of a {@link SimCluster}: one lease row per node and at most one decision row per
 * gtrid, with the statements the JDBC store runs, each one atomic (the simulation is one thread).
 * What the rows mean is tm-core's {@code dev.xatm.core.cluster} rules, the same the JDBC store asks;
 * only the takeover's compare-and-set is a parameter ({@link HaOptions#takeover}), so that a test can
 * plant a wrong one. Not thread-safe.
 */
final class SimStore {

    /** A decision row: the core's view of it plus what the adopter needs to rebuild the transaction. */
    record Row(DecisionRow decision, LogRecord.Decision record, boolean completed) {}

    /** What a fenced insert did. */
    enum Insert { INSERTED, EXISTS, FENCED }

    private final Map<Integer, NodeRow> nodes = new TreeMap<>();
    private final Map<String, Row> decisions = new TreeMap<>();
    private final HaOptions.Takeover takeover;

    SimStore(HaOptions.Takeover takeover) {
        this.takeover = takeover;
    }

    NodeRow node(int nodeId) {
        return nodes.get(nodeId);
    }

    Iterable<NodeRow> nodes() {
        return List.copyOf(nodes.values());
    }

    Row decision(String gtrid) {
        return decisions.get(gtrid);
    }

    /** A start: the node's new incarnation. */
    NodeEpoch claim(int nodeId, long now, long ttl) {
        NodeRow row = LeaseRules.claim(nodes.get(nodeId), nodeId, now, ttl);
        nodes.put(nodeId, row);
        return row.incarnation();
    }

    /** False when the node was fenced: it must halt. */
    boolean renew(NodeEpoch self, long now, long ttl) {
        NodeRow renewed = LeaseRules.renew(nodes.get(self.nodeId()), self, now, ttl);
        if (renewed != null) {
            nodes.put(self.nodeId(), renewed);
        }
        return renewed != null;
    }

    /** The decision insert, fenced on the writer's epoch in the same statement; insert-if-absent. */
    Insert insert(NodeEpoch writer, LogRecord.Decision record) {
        if (!StoreRules.fenceAdmits(nodes.get(writer.nodeId()), writer)) {
            return Insert.FENCED;
        }
        if (decisions.containsKey(record.gtrid())) {
            return Insert.EXISTS;
        }
        decisions.put(record.gtrid(), new Row(new DecisionRow(record.gtrid(), DecisionRow.Outcome.COMMIT, writer), record, false));
        return Insert.INSERTED;
    }

    /** The lazy completion: not fenced (a zombie's completion is still true). */
    void complete(String gtrid) {
        Row row = decisions.get(gtrid);
        if (row != null) {
            decisions.put(gtrid, new Row(row.decision(), row.record(), true));
        }
    }

    /**
     * The takeover, in one transaction: the compare-and-set on the dead node's row, then its open rows
     * move to the taker. Null when the compare failed (another survivor won, or the node came back).
     */
    List<LogRecord> takeOver(NodeEpoch taker, int dead, long seenEpoch, long now) {
        NodeRow after = takeover.takeOver(nodes.get(dead), taker.nodeId(), seenEpoch, now);
        if (after == null) {
            return null;
        }
        nodes.put(dead, after);
        List<LogRecord> adopted = new ArrayList<>();
        for (Map.Entry<String, Row> e : decisions.entrySet()) {
            Row row = e.getValue();
            if (!row.completed() && row.decision().owner().nodeId() == dead) {
                e.setValue(new Row(new DecisionRow(row.decision().gtrid(), row.decision().outcome(), taker), row.record(), false));
                adopted.add(row.record());
            }
        }
        return adopted;
    }

    /** A restart reads the open rows its node owns, whatever incarnation inserted them. */
    List<LogRecord> openRecords(int nodeId) {
        List<LogRecord> open = new ArrayList<>();
        for (Row row : decisions.values()) {
            if (!row.completed() && row.decision().owner().nodeId() == nodeId) {
                open.add(row.record());
            }
        }
        return open;
    }

    /** The branches a COMMIT row names, for the invariants; empty without one. */
    List<Branch> committedBranches(String gtrid) {
        Row row = decisions.get(gtrid);
        return row == null ? List.of() : row.record().branches();
    }
}
