package dev.xatm.bench.variant;

import dev.xatm.bench.Workload.Order;

import java.util.List;
import java.util.Map;

/**
 * One way of running the cross-shard order: the same three statements (see
 * {@link dev.xatm.bench.Workload#place}) with different transaction machinery around them.
 * Instances are shared by all client threads.
 */
public interface Variant extends AutoCloseable {

    /** Runs one order as one transaction; returns normally only when it committed. */
    void execute(Order order) throws Exception;

    /**
     * A separate coordinator process to measure (CPU, heap, JFR), or -1 when the coordinator is in this
     * JVM or absent; with several, the first of {@link #coordinatorPids()}.
     */
    default long coordinatorPid() {
        return -1;
    }

    /** Every separate coordinator process, whose CPU is summed (several tm-servers on one store); empty when none. */
    default List<Long> coordinatorPids() {
        return coordinatorPid() > 0 ? List.of(coordinatorPid()) : List.of();
    }

    /**
     * Counters of the coordinator's own log read now (e.g. fsyncs), or empty when not reachable
     * from here. Read at the start and the end of the measured window.
     */
    default Map<String, Long> logCounters() {
        return Map.of();
    }

    /** Called once the load has stopped, before {@link #close()}: numbers only known at shutdown. */
    default Map<String, String> finish() throws Exception {
        return Map.of();
    }

    /** Marker found in every global transaction id this variant writes (see XidMarker). */
    String xidMarker();

    @Override
    void close() throws Exception;

    /** The variant cannot run in this build (e.g. a feature not implemented yet); the report says why. */
    final class Unavailable extends Exception {
        public Unavailable(String reason) {
            super(reason);
        }
    }
}
